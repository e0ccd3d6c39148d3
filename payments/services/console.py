"""What an agent does in the console beyond the case record: read the conversation, write to the
customer, close the case and hand the conversation back to the assistant.

The conversation lives in Rasa (tracker API); the case lives here (HandoffService). Messages go
out through Rasa's tracker events API with `output_channel=latest`, so the customer gets them on
the channel they used (web chat, SMS). Card numbers are masked in everything shown or sent,
even though the channels mask them before Rasa (defence in depth).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from contracts.masking import mask_card_numbers
from payments.adapters.repositories import AuditLog
from payments.domain.compliance import ContactRule, HandoffStatus, with_opt_out
from payments.domain.errors import Conflict, InvalidRequest, PolicyRefused, UpstreamUnavailable
from payments.services.agents import CONSOLE, Agent
from payments.services.clock import Clock, utc_now
from payments.services.compliance import RESPONSE_WINDOW, ComplianceService
from payments.services.handoffs import Case, HandoffService, state_conflict

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 1000
HANDED_BACK_INTENT = "agent_handed_back"
# What a channel connector puts in place of a message that held a card number (channels/).
CARD_NUMBER_INTENT = "card_number_shared"
# Voice: the caller is already on the agent line (<Enqueue>/<Dial>); nothing can be pushed to a call.
CHANNELS_WITHOUT_PUSH = ("voice",)
# Resume, and listen: while paused Rasa logged the customer's messages without running actions, so
# the last action is still the handoff; rules (agent_handed_back → greeting) expect action_listen.
RESUME_EVENTS = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]


class Conversations(Protocol):
    """Rasa's HTTP API (payments.adapters.rasa_client.RasaConversations)."""

    async def events(self, conversation_id: str) -> list[dict[str, Any]]: ...

    async def append(self, conversation_id: str, events: list[dict[str, Any]]) -> None: ...

    async def trigger_intent(
        self, conversation_id: str, intent: str, entities: dict[str, Any] | None = None
    ) -> None: ...


@dataclass(frozen=True)
class Line:
    """One line of a transcript. `speaker`: customer, assistant, agent (named) or system."""

    index: int
    speaker: str
    text: str
    at: datetime
    agent: str | None = None


def transcript_lines(events: list[dict[str, Any]]) -> list[Line]:
    """The readable transcript of Rasa tracker events: what the customer and the assistant said,
    agents' messages (bot events with metadata.agent), and system lines for handoffs, hand-backs
    and events from the payments service. Card numbers are masked."""
    lines: list[Line] = []

    def add(speaker: str, text: str, event: dict[str, Any], agent: str | None = None) -> None:
        masked, _ = mask_card_numbers(text)
        at = datetime.fromtimestamp(float(event.get("timestamp") or 0), tz=timezone.utc)
        lines.append(Line(len(lines), speaker, masked, at, agent))

    for event in events:
        kind = event.get("event")
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
            text = str(event.get("text") or "")
            if intent == CARD_NUMBER_INTENT:
                add("system", "The customer typed a card number; it was removed before anyone saw it.", event)
            elif text.startswith("EXTERNAL: ") or (not text and intent):
                add("system", f"Event from our systems: {intent.replace('_', ' ')}", event)
            elif text.startswith("/"):
                add("customer", f"[chose: {intent.replace('_', ' ') or text[1:40]}]", event)
            else:
                add("customer", text, event)
        elif kind == "bot" and event.get("text"):
            agent = (event.get("metadata") or {}).get("agent")
            if isinstance(agent, str) and agent:
                add("agent", str(event["text"]), event, agent=agent)
            else:
                add("assistant", str(event["text"]), event)
        elif kind == "pause":
            add("system", "The assistant handed the conversation to a person and is silent.", event)
        elif kind == "resume":
            add("system", "The conversation was handed back to the assistant.", event)
    return lines


@dataclass(frozen=True)
class Transcript:
    case: Case
    lines: list[Line]
    can_reply: bool
    why_not: str | None


class ConsoleService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        handoffs: HandoffService,
        conversations: Conversations,
        *,
        clock: Clock = utc_now,
        compliance: ComplianceService | None = None,
    ) -> None:
        self.sessions = sessions
        self.handoffs = handoffs
        self.conversations = conversations
        self.clock = clock
        self.compliance = compliance or ComplianceService(sessions, clock=clock)

    async def transcript(self, case_id: str, agent: Agent) -> Transcript:
        """The case and its conversation so far, and whether this agent may write to it now."""
        case = await asyncio.to_thread(self.handoffs.get, case_id)
        lines = transcript_lines(await self.conversations.events(case.conversation_id))
        return Transcript(case, lines, *self._reply_rule(case, agent))

    @staticmethod
    def _reply_rule(case: Case, agent: Agent) -> tuple[bool, str | None]:
        if case.status is not HandoffStatus.CLAIMED:
            return False, "Claim the case to write to the customer."
        if case.claimed_by != agent.username:
            return False, f"{case.claimed_by} has this case."
        if case.channel in CHANNELS_WITHOUT_PUSH:
            return False, "The caller is on the phone line to an agent; talk to them there."
        return True, None

    async def reply(self, case_id: str, agent: Agent, text: str) -> None:
        """Send the agent's message to the customer on their channel. Only the claiming agent,
        only while the case is claimed.

        On SMS the contact rules decide first (`ComplianceService.check_agent_message`): one answer
        to the customer's latest message (within 30 minutes) may go at any hour; any other message
        starts a contact and is refused outside their hours (`PolicyRefused` with the rule's code,
        e.g. `outside_hours`, and a sentence for the agent). Web chat is seen only on our open page.
        The agent's first message of the case carries the opt-out notice (12 CFR 1006.6(e)).
        """
        text = text.strip()
        if not text or len(text) > MAX_REPLY_CHARS:
            raise InvalidRequest(f"a reply has 1 to {MAX_REPLY_CHARS} characters")
        case = await asyncio.to_thread(self.handoffs.get, case_id)
        allowed, why_not = self._reply_rule(case, agent)
        if not allowed:
            if case.channel in CHANNELS_WITHOUT_PUSH:
                raise Conflict(why_not or "", code="channel_cannot_push")
            raise self._not_yours(case, agent)
        lines = transcript_lines(await self.conversations.events(case.conversation_id))
        if case.channel == "sms":
            await asyncio.to_thread(self._check_contact, case, agent, lines)
        masked, cards = mask_card_numbers(text)
        first = not any(line.speaker == "agent" for line in lines)
        if first:
            masked = with_opt_out(masked)
        await self.conversations.append(
            case.conversation_id,
            [
                {"event": "bot", "text": masked, "metadata": {"agent": agent.display_name}},
            ],
        )
        await asyncio.to_thread(
            self._audit,
            case,
            agent,
            "agent_replied",
            characters=len(masked),
            card_numbers_masked=cards,
            opt_out_notice=first,
        )

    def _check_contact(self, case: Case, agent: Agent, lines: list[Line]) -> None:
        customer = [line for line in lines if line.speaker == "customer"]
        last = customer[-1] if customer else None
        answered = last is not None and any(line.speaker == "agent" for line in lines[last.index + 1 :])
        decision = self.compliance.check_agent_message(
            account_id=case.account_id,
            phone=case.conversation_id,
            last_customer_at=last.at if last else None,
            answered=answered,
            actor=f"agent:{agent.username}",
            conversation_id=case.conversation_id,
        )
        if not decision.allowed:
            rule = decision.rule or ContactRule.COLLECTION_PAUSED
            why = decision.detail
            if rule.is_time_or_place:
                why = (
                    f"this is not the one answer to a message the customer sent in the last "
                    f"{RESPONSE_WINDOW.seconds // 60} minutes, so it would start a new contact, and {why}"
                )
            when = (
                (
                    f" You can write from {decision.next_allowed_at:%Y-%m-%d %H:%M} UTC, or as soon as the "
                    f"customer writes again."
                )
                if decision.next_allowed_at
                else ""
            )
            raise PolicyRefused(rule.value, f"Not sent: {why}.{when}")

    async def resolve(self, case_id: str, agent: Agent, outcome: str, hand_back: bool) -> Case:
        """Close the case. The assistant is always resumed in Rasa (nobody is on the conversation
        any more); with `hand_back` it also greets the customer and offers what fits.

        Rasa is told first: if it cannot be reached, nothing changes and the agent can try again.
        """
        case = await asyncio.to_thread(self.handoffs.get, case_id)
        if case.status is not HandoffStatus.CLAIMED or case.claimed_by != agent.username:
            raise self._not_yours(case, agent)
        await self.conversations.append(case.conversation_id, RESUME_EVENTS)
        closed = await asyncio.to_thread(self.handoffs.resolve, case_id, agent.username, outcome, hand_back)
        if hand_back:
            try:
                await self.conversations.trigger_intent(
                    case.conversation_id,
                    HANDED_BACK_INTENT,
                    {"agent_name": agent.display_name, "handoff_reason": case.reason.value},
                )
            except UpstreamUnavailable as exc:
                # The case is closed and the assistant is listening again; only the greeting is lost.
                log.warning("[conversation=%s] hand-back greeting not sent: %s", case.conversation_id, exc.detail)
        return closed

    @staticmethod
    def _not_yours(case: Case, agent: Agent) -> Conflict:
        return state_conflict(case.id, case.status, case.claimed_by, agent.username)

    def viewed(self, case_id: str, agent: Agent) -> Case:
        """The case, with the fact that this agent opened it in the audit trail."""
        case = self.handoffs.get(case_id)
        self._audit(case, agent, "handoff_viewed")
        return case

    def _audit(self, case: Case, agent: Agent, kind: str, **detail: Any) -> None:
        with self.sessions.begin() as session:
            AuditLog(session).record(
                kind,
                at=self.clock(),
                actor=f"agent:{agent.username}",
                channel=CONSOLE,
                account_id=case.account_id,
                conversation_id=case.conversation_id,
                detail={"case_id": case.id, **detail},
            )
