"""Consent and restriction flags, the contact check before anything we start, and the contact
ledger for Reg F call counting (DESIGN.md, compliance rules). Every change is audited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from contracts.masking import mask_card_numbers
from payments.adapters.compliance_repository import (
    ContactEventRepository,
    ContactWindowRepository,
    FlagRepository,
    ReportRepository,
    serialize_writes,
)
from payments.adapters.orm import ContactWindowRow
from payments.adapters.repositories import AccountRepository, AuditLog
from payments.domain.accounts import NO_COLLECTION_FLAGS, Account, AccountFlag
from payments.domain.compliance import (
    DEFAULT_POLICY,
    ContactDecision,
    ContactEvent,
    ContactKind,
    ContactPolicy,
    ContactRule,
    Direction,
    Medium,
    evaluate_contact,
    is_valid_actor,
    may_clear_flag,
)
from payments.domain.errors import InvalidRequest, NotFound, PolicyRefused
from payments.domain.standing import PauseReason, Purpose
from payments.domain.zones import consumer_zones
from payments.services.clock import Clock, utc_now
from payments.services.notifications import Verdict
from payments.services.standing import standing_in

NOTE_MAX = 500
# An agent's message this soon after the customer's own is a response in a live conversation
# (docs/compliance.md, "Agent replies"); later, it starts a contact and every contact rule applies.
RESPONSE_WINDOW = timedelta(minutes=30)


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
class Inconvenient:
    """Times and places the consumer named as inconvenient: "HH:MM" local, either side optional."""

    not_before: str | None = None
    not_after: str | None = None
    places: tuple[str, ...] = ()
    text: str | None = None


@dataclass(frozen=True)
class Revocation:
    media: tuple[Medium, ...]
    cease: bool
    account_ids: tuple[str, ...]


ALL_MEDIA = "all"


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
        "flag_set",
        at=at,
        actor=actor,
        channel=channel,
        account_id=account_id,
        conversation_id=conversation_id,
        detail={"flag": flag.value, **(detail or {})},
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
                session,
                account_id,
                flag,
                actor=actor,
                channel=channel,
                at=now,
                conversation_id=conversation_id,
                detail=_note(note),
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
                    "flag_cleared",
                    at=now,
                    actor=actor,
                    channel=channel,
                    account_id=account_id,
                    conversation_id=conversation_id,
                    detail={"flag": flag.value, **_note(note)},
                )
            flags = repo.flags_of(account_id)
        return FlagState(account_id, flags, changed)

    def opt_out_phone(
        self, phone: str, medium: Medium, *, channel: str | None = "sms", conversation_id: str | None = None
    ) -> PhoneConsentChange:
        """STOP from a phone when no account is known: stop `medium` on every account with the number."""
        return self._flag_by_phone(
            phone, medium.stop_flag, channel, conversation_id, set_it=True, source="phone_opt_out"
        )

    def opt_in_phone(
        self, phone: str, medium: Medium, *, channel: str | None = "sms", conversation_id: str | None = None
    ) -> PhoneConsentChange:
        """START from a phone: clear stop_<medium> on every account with the number."""
        return self._flag_by_phone(
            phone, medium.stop_flag, channel, conversation_id, set_it=False, source="phone_opt_in"
        )

    def mark_wrong_number_phone(
        self, phone: str, *, channel: str | None = "sms", conversation_id: str | None = None
    ) -> PhoneConsentChange:
        """Whoever answers this number is not the cardholder: flag `wrong_number` on every account
        with it, so the contact check refuses SMS and calls to it (the person is not told anything)."""
        return self._flag_by_phone(
            phone, AccountFlag.WRONG_NUMBER, channel, conversation_id, set_it=True, source="phone_wrong_number"
        )

    def _flag_by_phone(
        self,
        phone: str,
        flag: AccountFlag,
        channel: str | None,
        conversation_id: str | None,
        *,
        set_it: bool,
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
                    did = set_flag_in(
                        session,
                        account_id,
                        flag,
                        actor="customer",
                        channel=channel,
                        at=now,
                        conversation_id=conversation_id,
                        detail={"source": source},
                    )
                else:
                    did = repo.remove(account_id, flag)
                    if did:
                        audit.record(
                            "flag_cleared",
                            at=now,
                            actor="customer",
                            channel=channel,
                            account_id=account_id,
                            conversation_id=conversation_id,
                            detail={"flag": flag.value, "source": source},
                        )
                if did:
                    changed.append(account_id)
            if not account_ids:
                audit.record(
                    f"{source}_unmatched",
                    at=now,
                    actor="customer",
                    channel=channel,
                    conversation_id=conversation_id,
                    detail={"flag": flag.value},
                )
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
            contacts, windows = ContactEventRepository(session), ContactWindowRepository(session)
            # Two spare days: the window is counted in calendar days where the consumer lives.
            since = at - timedelta(days=self.policy.window_days + 2)
            history = contacts.between(account_id, medium, since, at) if medium is Medium.VOICE else []
            decision = evaluate_contact(
                flags=FlagRepository(session).flags_of(account_id),
                time_zone=consumer_zones(account.time_zone, account.zip_code, account.phone),
                medium=medium,
                at=at,
                history=history,
                policy=self.policy,
                pauses=_pauses(session, account),
                windows=windows.windows_of(account_id),
                places=windows.places_of(account_id),
            )
            audit = AuditLog(session)
            audit.record(
                "contact_check",
                at=self.clock(),
                actor=actor,
                channel=medium.value,
                account_id=account_id,
                conversation_id=conversation_id,
                detail={
                    "medium": medium.value,
                    "at": at.isoformat(),
                    "allowed": decision.allowed,
                    "rule": decision.rule.value if decision.rule else None,
                },
            )
            event_id = None
            if decision.allowed and record_attempt:
                event_id = self._record(
                    session,
                    account_id,
                    ContactEvent(medium, ContactKind.ATTEMPT, Direction.OUTBOUND, at),
                    actor=actor,
                    conversation_id=conversation_id,
                )
        return ContactCheck(account_id, medium, at, decision, event_id)

    def check_agent_message(
        self,
        *,
        account_id: str | None,
        phone: str | None,
        last_customer_at: datetime | None,
        answered: bool,
        actor: str,
        conversation_id: str | None = None,
    ) -> ContactDecision:
        """May an agent's SMS go to this customer now (docs/compliance.md, 12 CFR 1006.6(b)(1))?

        The first agent message within `RESPONSE_WINDOW` of the customer's own last message
        (`answered`: an agent has written since) answers a communication the customer started:
        one response, in the same medium, may go at any hour (comment 6(b)(1)-2); only an SMS
        opt-out stops it. Any other message starts a contact: the full contact check applies
        (standing, opt-outs, hours in every zone the customer may be in, their own hours).
        Without an account, the phone's zones count.
        """
        _check_actor(actor)
        now = self.clock()
        if not answered and last_customer_at is not None and now - last_customer_at <= RESPONSE_WINDOW:
            if account_id:
                with self.sessions() as session:
                    if AccountFlag.STOP_SMS in FlagRepository(session).flags_of(account_id):
                        return ContactDecision(False, ContactRule.OPTED_OUT, "the customer opted out of texts")
            return ContactDecision(True, None, "a reply within a conversation the customer is having")
        if account_id:
            return self.check_contact(
                account_id, Medium.SMS, now, actor=actor, conversation_id=conversation_id
            ).decision
        return evaluate_contact(
            flags=(), time_zone=consumer_zones(None, None, phone), medium=Medium.SMS, at=now, policy=self.policy
        )

    def outbox_verdict(self, account_id: str, medium: Medium, purpose: Purpose, at: datetime) -> Verdict:
        """The outbox's check before each attempt (`OutboxGate`). A collection message needs the
        full contact check (standing, opt-outs, hours in every zone, the consumer's own hours, call
        limits): refused for a time it waits, refused for good it is held. A notice (the answer to
        something the customer just did) needs only a medium that may carry anything."""
        if Purpose(purpose) is Purpose.NOTICE:
            with self.sessions() as session:
                try:
                    standing = standing_in(session, account_id)
                except NotFound:
                    return Verdict(False, None, "unknown_account")
            return Verdict(True) if standing.may(medium, Purpose.NOTICE) else Verdict(False, None, "medium_refused")
        try:
            decision = self.check_contact(account_id, medium, at).decision
        except NotFound:
            return Verdict(False, None, "unknown_account")
        if decision.allowed:
            return Verdict(True)
        reason = decision.rule.value if decision.rule else "refused"
        return Verdict(False, decision.next_allowed_at, reason)

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
        whoever called). Audited as "contact_event". Returns the event id.

        One conversation id (a call: `voice-<CallSid>`) has at most one event of each kind and
        medium: a connector's retry returns the first event's id and counts nothing twice.
        """
        actor = actor or ("customer" if direction is Direction.INBOUND else "system")
        _check_actor(actor)
        now = self.clock()
        with self.sessions.begin() as session:
            serialize_writes(session, f"account:{account_id}")
            _require_account(session, account_id)
            if conversation_id:
                existing = ContactEventRepository(session).find(account_id, medium, kind, conversation_id)
                if existing is not None:
                    return existing
            return self._record(
                session,
                account_id,
                ContactEvent(medium, kind, direction, now),
                actor=actor,
                conversation_id=conversation_id,
            )

    # --- revocation ------------------------------------------------------------------------

    def revoke(
        self,
        *,
        phone: str | None,
        account_id: str | None,
        media: Iterable[str],
        cease: bool,
        channel: str,
        conversation_id: str | None,
        inconvenient: Inconvenient | None = None,
        summary: str | None = None,
    ) -> Revocation:
        """The consumer's own words: stop `media` ("all": every medium), cease all communication,
        or not at these times. Applies to every account with `phone` and to `account_id`; `cease`
        sets the cease flag, which stops every medium. Committed before this returns, so the
        caller confirms only what is durable. The number is never written to the audit trail."""
        stops = _media(media, cease)
        # The caller masks the customer's words; mask again, so no card number is ever stored.
        summary = mask_card_numbers(summary)[0] if summary else summary
        if inconvenient and inconvenient.text:
            inconvenient = replace(inconvenient, text=mask_card_numbers(inconvenient.text)[0])
        if not (stops or inconvenient):
            raise InvalidRequest("a revocation names media, cease or inconvenient times")
        now = self.clock()
        with self.sessions.begin() as session:
            repo = FlagRepository(session)
            ids = set(repo.account_ids_with_phone(phone)) if phone else set()
            if account_id and repo.account_exists(account_id):
                ids.add(account_id)
            detail: dict[str, Any] = {
                "media": [m.value for m in stops],
                "cease": cease,
                "unknown_account": bool(account_id) and account_id not in ids,
                **({"summary": summary[:NOTE_MAX]} if summary else {}),
                **(
                    {
                        "inconvenient": {
                            "not_before": inconvenient.not_before,
                            "not_after": inconvenient.not_after,
                            "places": list(inconvenient.places),
                        }
                    }
                    if inconvenient
                    else {}
                ),
            }
            audit = AuditLog(session)
            for target in sorted(ids):  # sorted: locks are always taken in the same order
                serialize_writes(session, f"account:{target}")
                flags = [m.stop_flag for m in stops] + ([AccountFlag.CEASE_COMMUNICATION] if cease else [])
                for flag in flags:
                    set_flag_in(
                        session,
                        target,
                        flag,
                        actor="customer",
                        channel=channel,
                        at=now,
                        conversation_id=conversation_id,
                        detail={"source": "revocation"},
                    )
                if inconvenient:
                    ContactWindowRepository(session).add(
                        ContactWindowRow(
                            account_id=target,
                            not_before=inconvenient.not_before,
                            not_after=inconvenient.not_after,
                            places=list(inconvenient.places),
                            text=(inconvenient.text or None) and inconvenient.text[:NOTE_MAX],
                            channel=channel,
                            conversation_id=conversation_id,
                            created_at=now,
                        )
                    )
                audit.record(
                    "revocation",
                    at=now,
                    actor="customer",
                    channel=channel,
                    account_id=target,
                    conversation_id=conversation_id,
                    detail=detail,
                )
            if not ids:
                audit.record(
                    "revocation_unmatched",
                    at=now,
                    actor="customer",
                    channel=channel,
                    conversation_id=conversation_id,
                    detail=detail,
                )
        return Revocation(stops, cease, tuple(sorted(ids)))

    def _record(
        self, session: Session, account_id: str, event: ContactEvent, *, actor: str, conversation_id: str | None
    ) -> int:
        event_id = ContactEventRepository(session).add(account_id, event, conversation_id)
        AuditLog(session).record(
            "contact_event",
            at=event.at,
            actor=actor,
            channel=event.medium.value,
            account_id=account_id,
            conversation_id=conversation_id,
            detail={
                "event_id": event_id,
                "medium": event.medium.value,
                "kind": event.kind.value,
                "direction": event.direction.value,
            },
        )
        return event_id


def _pauses(session: Session, account: Account) -> list[str]:
    """What pauses contact besides the flags: a report no agent reviewed. (A settled account is
    paused for collection in its standing, but may still be told it is settled.)"""
    return [PauseReason.PENDING_REVIEW.value] if ReportRepository(session).pending_kinds(account.id) else []


def _media(media: Iterable[str], cease: bool) -> tuple[Medium, ...]:
    """The media named, "all" for every one; a cease request stops every medium whatever was named."""
    named = set(media)
    unknown = named - {m.value for m in Medium} - {ALL_MEDIA}
    if unknown:
        raise InvalidRequest(f"unknown media: {', '.join(sorted(unknown))}")
    if cease or ALL_MEDIA in named:
        return tuple(Medium)
    return tuple(m for m in Medium if m.value in named)


def _require_account(session: Session, account_id: str) -> None:
    if not FlagRepository(session).account_exists(account_id):
        raise NotFound(f"no account {account_id}")


def _check_actor(actor: str) -> None:
    if not is_valid_actor(actor):
        raise InvalidRequest("actor must be customer, system or agent:<name>")


def _note(note: str | None) -> dict[str, Any]:
    return {"note": note[:NOTE_MAX]} if note else {}
