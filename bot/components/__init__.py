"""Our NLU component (`bot.components.entities`, named in bot/config.yml), its patterns
(`entity_patterns`), parsers (`entity_parsers`, `numbers`, `dates`) and matchers (`distress`).

Rasa imports this package when it loads the model, in every process that runs it: the place to
install `bot.rasa_speedups`.
"""

from bot import rasa_speedups

rasa_speedups.install()
