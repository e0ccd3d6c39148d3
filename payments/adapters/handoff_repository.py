"""Handoff cases and their notes. State changes are single conditional UPDATEs, so when two agents
act on one case at once the database decides, and exactly one of them changes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from payments.adapters.db import rows_matched
from payments.adapters.orm import HandoffNoteRow, HandoffRow
from payments.domain.compliance import HandoffStatus

_ACTIVE = (HandoffStatus.OPEN.value, HandoffStatus.CLAIMED.value)


class HandoffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, case_id: str) -> HandoffRow | None:
        return self.session.get(HandoffRow, case_id, populate_existing=True)

    def exists(self, case_id: str) -> bool:
        return self.session.scalar(select(HandoffRow.id).where(HandoffRow.id == case_id)) is not None

    def active_for_conversation(self, conversation_id: str) -> HandoffRow | None:
        """The open or claimed case of a conversation (there is at most one; the oldest if not)."""
        return self.session.scalars(
            select(HandoffRow)
            .where(HandoffRow.conversation_id == conversation_id, HandoffRow.status.in_(_ACTIVE))
            .order_by(HandoffRow.created_at, HandoffRow.id)
            .limit(1)
        ).first()

    def active_lockout_for_account(self, account_id: str) -> HandoffRow | None:
        """The open or claimed verification lock-out case of an account, from any conversation."""
        return self.session.scalars(
            select(HandoffRow)
            .where(
                HandoffRow.account_id == account_id,
                HandoffRow.reason == "verification_locked",
                HandoffRow.status.in_(_ACTIVE),
            )
            .order_by(HandoffRow.created_at, HandoffRow.id)
            .limit(1)
        ).first()

    def add(self, row: HandoffRow) -> None:
        self.session.add(row)
        self.session.flush()

    def add_note(self, case_id: str, author: str, text: str, at: datetime) -> int:
        note = HandoffNoteRow(handoff_id=case_id, author=author, text=text, created_at=at)
        self.session.add(note)
        self.session.flush()
        return note.id

    def raise_priority(self, case_id: str, priority: int, reason: str) -> bool:
        """Only ever towards more urgent; a concurrent change to a less urgent reason cannot win."""
        result = self.session.execute(
            update(HandoffRow)
            .where(HandoffRow.id == case_id, HandoffRow.priority > priority)
            .values(priority=priority, reason=reason)
        )
        return rows_matched(result) == 1

    def claim(self, case_id: str, agent: str, at: datetime) -> bool:
        result = self.session.execute(
            update(HandoffRow)
            .where(HandoffRow.id == case_id, HandoffRow.status == HandoffStatus.OPEN.value)
            .values(status=HandoffStatus.CLAIMED.value, claimed_by=agent, claimed_at=at)
        )
        return rows_matched(result) == 1

    def release(self, case_id: str, agent: str) -> bool:
        """Back to the queue at its old place: `waiting_since` is kept, the customer is still waiting."""
        result = self.session.execute(
            update(HandoffRow)
            .where(
                HandoffRow.id == case_id,
                HandoffRow.status == HandoffStatus.CLAIMED.value,
                HandoffRow.claimed_by == agent,
            )
            .values(status=HandoffStatus.OPEN.value, claimed_by=None, claimed_at=None)
        )
        return rows_matched(result) == 1

    def resolve(self, case_id: str, agent: str, outcome: str, at: datetime) -> bool:
        result = self.session.execute(
            update(HandoffRow)
            .where(
                HandoffRow.id == case_id,
                HandoffRow.status == HandoffStatus.CLAIMED.value,
                HandoffRow.claimed_by == agent,
            )
            .values(status=HandoffStatus.RESOLVED.value, resolved_at=at, outcome=outcome)
        )
        return rows_matched(result) == 1

    def by_status(self, status: HandoffStatus, limit: int) -> list[HandoffRow]:
        query = select(HandoffRow).where(HandoffRow.status == status.value)
        if status is HandoffStatus.RESOLVED:
            query = query.order_by(HandoffRow.resolved_at.desc(), HandoffRow.id.desc())
        else:
            query = query.order_by(HandoffRow.priority, HandoffRow.waiting_since, HandoffRow.id)
        return list(self.session.scalars(query.limit(limit)))

    def queue_position(self, row: HandoffRow) -> int | None:
        """1-based place among open cases (priority, then waiting time); None unless open."""
        if row.status != HandoffStatus.OPEN.value:
            return None
        ahead = self.session.scalar(
            select(func.count())
            .select_from(HandoffRow)
            .where(
                HandoffRow.status == HandoffStatus.OPEN.value,
                or_(
                    HandoffRow.priority < row.priority,
                    and_(HandoffRow.priority == row.priority, HandoffRow.waiting_since < row.waiting_since),
                    and_(
                        HandoffRow.priority == row.priority,
                        HandoffRow.waiting_since == row.waiting_since,
                        HandoffRow.id < row.id,
                    ),
                ),
            )
        )
        return int(ahead or 0) + 1
