"""Consent and restriction flags, the contact check before anything we start, and the contact
ledger for Reg F call counting (DESIGN.md, compliance rules). Every change is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from payments.adapters.compliance_repository import ContactEventRepository, FlagRepository, serialize_writes
from payments.adapters.repositories import AccountRepository, AuditLog
from payments.domain.accounts import NO_COLLECTION_FLAGS, AccountFlag
from payments.domain.compliance import (
    DEFAULT_POLICY,
    ContactDecision,
    ContactEvent,
    ContactKind,
    ContactPolicy,
    Direction,
    Medium,
    evaluate_contact,
    is_valid_actor,
    may_clear_flag,
)
from payments.domain.errors import InvalidRequest, NotFound, PolicyRefused
from payments.services.clock import Clock, utc_now

NOTE_MAX = 500


@dataclass(frozen=True)
class FlagState:
    account_id: str
    flags: frozenset[AccountFlag]
    changed: bool

    @property
    def collection_allowed(self) -> bool:
        return not (self.flags & NO_COLLECTION_FLAGS)


@dataclass(frozen=True)
class PhoneConsentChange:
    """A consent change keyed by phone number: every account with that number, and those changed."""

    account_ids: tuple[str, ...]
    changed_account_ids: tuple[str, ...]


@dataclass(frozen=True)
class ContactCheck:
    account_id: str
    medium: Medium
    at: datetime
    decision: ContactDecision
    recorded_event_id: int | None = None


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    kind: str
    actor: str
    channel: str | None
    conversation_id: str | None
    detail: dict[str, Any]


def set_flag_in(
    session: Session,
    account_id: str,
    flag: AccountFlag,
    *,
    actor: str,
    channel: str | None,
    at: datetime,
    conversation_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> bool:
    """Set a flag inside the caller's transaction (which must exist-check the account); audit
    "flag_set" only when it was not set already. Returns whether it changed."""
    serialize_writes(session, f"account:{account_id}")
    flags = FlagRepository(session)
    if flag in flags.flags_of(account_id):
        return False
    flags.add(account_id, flag, at)
    AuditLog(session).record(
        "flag_set", at=at, actor=actor, channel=channel, account_id=account_id,
        conversation_id=conversation_id, detail={"flag": flag.value, **(detail or {})},
    )
    return True


class ComplianceService:
    def __init__(
        self, sessions: sessionmaker[Session], *, clock: Clock = utc_now, policy: ContactPolicy = DEFAULT_POLICY
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.policy = policy

    # --- flags ----------------------------------------------------------------------------

    def set_flag(
        self,
        account_id: str,
        flag: AccountFlag,
        *,
        actor: str,
        channel: str | None,
        conversation_id: str | None = None,
        note: str | None = None,
    ) -> FlagState:
        """Set a flag; setting one that is already set changes nothing and is not audited again.

        `wrong_number` is about the phone, not the person: the contact check refuses SMS and voice
        for the account while it is set (email still works).
        """
        _check_actor(actor)
        now = self.clock()
        with self.sessions.begin() as session:
            serialize_writes(session, f"account:{account_id}")
            _require_account(session, account_id)
            changed = set_flag_in(
                session, account_id, flag, actor=actor, channel=channel, at=now,
                conversation_id=conversation_id, detail=_note(note),
            )
            flags = FlagRepository(session).flags_of(account_id)
        return FlagState(account_id, flags, changed)

    def clear_flag(
        self,
        account_id: str,
        flag: AccountFlag,
        *,
        actor: str,
        channel: str | None,
        conversation_id: str | None = None,
        note: str | None = None,
    ) -> FlagState:
        """Clear a flag (consent given back, a dispute validated, a number corrected).

        A customer may only clear the stop_* flags; the others need an agent or the system
        (`PolicyRefused("flag_requires_agent")`). Clearing a flag that is not set is a no-op.
        """
        _check_actor(actor)
        if not may_clear_flag(actor, flag):
            raise PolicyRefused("flag_requires_agent", f"only an agent may clear {flag.value}")
        now = self.clock()
        with self.sessions.begin() as session:
            serialize_writes(session, f"account:{account_id}")
            _require_account(session, account_id)
            repo = FlagRepository(session)
            changed = repo.remove(account_id, flag)
            if changed:
                AuditLog(session).record(
                    "flag_cleared", at=now, actor=actor, channel=channel, account_id=account_id,
                    conversation_id=conversation_id, detail={"flag": flag.value, **_note(note)},
                )
            flags = repo.flags_of(account_id)
        return FlagState(account_id, flags, changed)

    def opt_out_phone(
        self, phone: str, medium: Medium, *, channel: str | None = "sms", conversation_id: str | None = None
    ) -> PhoneConsentChange:
        """STOP from a phone when no account is known: stop `medium` on every account with the number."""
        return self._flag_by_phone(phone, medium.stop_flag, channel, conversation_id, set_it=True, source="phone_opt_out")

    def opt_in_phone(
        self, phone: str, medium: Medium, *, channel: str | None = "sms", conversation_id: str | None = None
    ) -> PhoneConsentChange:
        """START from a phone: clear stop_<medium> on every account with the number."""
        return self._flag_by_phone(phone, medium.stop_flag, channel, conversation_id, set_it=False, source="phone_opt_in")

    def mark_wrong_number_phone(
        self, phone: str, *, channel: str | None = "sms", conversation_id: str | None = None
    ) -> PhoneConsentChange:
        """Whoever answers this number is not the cardholder: flag `wrong_number` on every account
        with it, so the contact check refuses SMS and calls to it (the person is not told anything)."""
        return self._flag_by_phone(phone, AccountFlag.WRONG_NUMBER, channel, conversation_id, set_it=True,
                                   source="phone_wrong_number")

    def _flag_by_phone(
        self, phone: str, flag: AccountFlag, channel: str | None, conversation_id: str | None, *, set_it: bool,
        source: str,
    ) -> PhoneConsentChange:
        """Set or clear `flag` on every account with `phone`, as the customer. Audited per account
        changed, and once without an account ("<source>_unmatched") when the number matches none.
        The number itself is never written to the audit trail."""
        now = self.clock()
        with self.sessions.begin() as session:
            repo = FlagRepository(session)
            account_ids = repo.account_ids_with_phone(phone)
            audit = AuditLog(session)
            changed: list[str] = []
            for account_id in account_ids:  # sorted: locks are always taken in the same order
                serialize_writes(session, f"account:{account_id}")
                if set_it:
                    did = set_flag_in(session, account_id, flag, actor="customer", channel=channel, at=now,
                                      conversation_id=conversation_id, detail={"source": source})
                else:
                    did = repo.remove(account_id, flag)
                    if did:
                        audit.record("flag_cleared", at=now, actor="customer", channel=channel, account_id=account_id,
                                     conversation_id=conversation_id, detail={"flag": flag.value, "source": source})
                if did:
                    changed.append(account_id)
            if not account_ids:
                audit.record(f"{source}_unmatched", at=now, actor="customer", channel=channel,
                             conversation_id=conversation_id, detail={"flag": flag.value})
        return PhoneConsentChange(tuple(account_ids), tuple(changed))

    def events(self, account_id: str, limit: int = 50) -> list[AuditEntry]:
        """The account's audit trail, newest first."""
        with self.sessions() as session:
            _require_account(session, account_id)
            rows = AuditLog(session).for_account(account_id, limit=limit)
            return [AuditEntry(r.at, r.kind, r.actor, r.channel, r.conversation_id, dict(r.detail or {})) for r in rows]

    # --- contact ---------------------------------------------------------------------------

    def check_contact(
        self,
        account_id: str,
        medium: Medium,
        at: datetime | None = None,
        *,
        record_attempt: bool = False,
        actor: str = "system",
        conversation_id: str | None = None,
    ) -> ContactCheck:
        """May we start a `medium` contact now (or at `at`)? The check is audited ("contact_check").

        With `record_attempt`, an allowed check also records the outbound attempt in the same
        transaction, so two dialers cannot both take the seventh call.
        """
        _check_actor(actor)
        at = at or self.clock()
        if at.tzinfo is None:
            raise InvalidRequest("`at` needs a time zone offset")
        with self.sessions.begin() as session:
            serialize_writes(session, f"account:{account_id}")
            account = AccountRepository(session).get(account_id)
            if account is None:
                raise NotFound(f"no account {account_id}")
            contacts = ContactEventRepository(session)
            # Two spare days: the window is counted in calendar days where the consumer lives.
            since = at - timedelta(days=self.policy.window_days + 2)
            history = contacts.between(account_id, medium, since, at) if medium is Medium.VOICE else []
            decision = evaluate_contact(
                flags=FlagRepository(session).flags_of(account_id), time_zone=account.time_zone,
                medium=medium, at=at, history=history, policy=self.policy,
            )
            audit = AuditLog(session)
            audit.record(
                "contact_check", at=self.clock(), actor=actor, channel=medium.value, account_id=account_id,
                conversation_id=conversation_id,
                detail={"medium": medium.value, "at": at.isoformat(), "allowed": decision.allowed,
                        "rule": decision.rule.value if decision.rule else None},
            )
            event_id = None
            if decision.allowed and record_attempt:
                event_id = self._record(session, account_id, ContactEvent(medium, ContactKind.ATTEMPT, Direction.OUTBOUND, at),
                                        actor=actor, conversation_id=conversation_id)
        return ContactCheck(account_id, medium, at, decision, event_id)

    def record_contact(
        self,
        account_id: str,
        medium: Medium,
        kind: ContactKind,
        direction: Direction,
        *,
        actor: str | None = None,
        conversation_id: str | None = None,
    ) -> int:
        """Record an attempt (before every outbound call) or a conversation (a person was reached,
        whoever called). Audited as "contact_event". Returns the event id."""
        actor = actor or ("customer" if direction is Direction.INBOUND else "system")
        _check_actor(actor)
        now = self.clock()
        with self.sessions.begin() as session:
            serialize_writes(session, f"account:{account_id}")
            _require_account(session, account_id)
            return self._record(session, account_id, ContactEvent(medium, kind, direction, now),
                                actor=actor, conversation_id=conversation_id)

    def _record(
        self, session: Session, account_id: str, event: ContactEvent, *, actor: str, conversation_id: str | None
    ) -> int:
        event_id = ContactEventRepository(session).add(account_id, event)
        AuditLog(session).record(
            "contact_event", at=event.at, actor=actor, channel=event.medium.value, account_id=account_id,
            conversation_id=conversation_id,
            detail={"event_id": event_id, "medium": event.medium.value, "kind": event.kind.value,
                    "direction": event.direction.value},
        )
        return event_id


def _require_account(session: Session, account_id: str) -> None:
    if not FlagRepository(session).account_exists(account_id):
        raise NotFound(f"no account {account_id}")


def _check_actor(actor: str) -> None:
    if not is_valid_actor(actor):
        raise InvalidRequest("actor must be customer, system or agent:<name>")


def _note(note: str | None) -> dict[str, Any]:
    return {"note": note[:NOTE_MAX]} if note else {}
