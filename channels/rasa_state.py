"""What a connector may read of a conversation from the rasa server it runs in: the tracker in
Rasa's own tracker store (the Sanic app's agent). Read-only, for checks and display."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


async def rasa_tracker(app: Any, sender_id: str) -> Any:
    """The conversation's tracker, or None where there is none (no rasa agent, as in connector
    tests; an unknown conversation; a store that failed to answer, which is logged)."""
    tracker_store = getattr(getattr(getattr(app, "ctx", None), "agent", None), "tracker_store", None)
    if tracker_store is None:
        return None
    try:
        return await tracker_store.retrieve(sender_id)
    except Exception:  # a read for a check or for display must never break a turn
        log.exception("[conversation=%s] could not read the tracker", sender_id)
        return None


async def is_listening(app: Any, sender_id: str) -> bool:
    """Rasa has this conversation and it is not handed to a person (paused). A turn that got no
    reply then means something failed, e.g. the action server is down."""
    tracker = await rasa_tracker(app, sender_id)
    return tracker is not None and not tracker.is_paused()
