"""What several processes must agree on, once: pure Python, importable from the rasa environment
(Python 3.10) and the payments environment (Python 3.11+); no third-party imports."""
