"""Logging that carries the conversation id on every line (set per request by middleware)."""

from __future__ import annotations

import logging
from contextvars import ContextVar

conversation_id_var: ContextVar[str] = ContextVar("conversation_id", default="-")


class ConversationIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.conversation_id = conversation_id_var.get()
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ConversationIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [conversation=%(conversation_id)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
