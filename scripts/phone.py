"""A phone in your terminal for the Twilio SMS and voice connectors, without a Twilio account.

    python scripts/phone.py sms   --from +15125550101     # text the assistant
    python scripts/phone.py voice --from +15125550101     # call it

Runs with either environment (.venv/rasa/bin/python or .venv/payments/bin/python). It sends the
webhooks Twilio would send, signed with your local Twilio auth token (TWILIO_AUTH_TOKEN, default
"dev-twilio-auth-token", the same default as the connectors and the payments service), to the
running rasa server (`make run`). The Twilio side it plays is testkit/twilio.py.

SMS replies do not come back in the webhook's answer: the connector sends them through Twilio's
REST API. So this script also runs a small stand-in for that API (POST
/2010-04-01/Accounts/{AccountSid}/Messages.json) and prints what arrives there, including
messages pushed later (agent replies, payment confirmations). Start rasa pointed at it:

    TWILIO_API_BASE=http://127.0.0.1:8787 make run        # or put TWILIO_API_BASE in .env

Like Twilio's Advanced Opt-Out, the stand-in answers STOP itself and refuses to deliver to a
number that opted out, until START.

Voice: shows what Twilio would say (<Say>), waits for your keypad digits or words at each
<Gather> (digits, * and # are keypad presses; anything else is speech; an empty line is
silence), follows redirects, simulates <Pay> (a test card from localstripe, a decline or a
failure, posted to the payments service's <Pay> action like Twilio would), a <Dial> with its
whisper, <Enqueue> and <Hangup>.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from aiohttp import ClientSession, ClientTimeout
from yarl import URL

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python scripts/phone.py`: the project's packages too
    sys.path.insert(0, str(ROOT))

from contracts.sms_keywords import OPT_IN, OPT_OUT, keyword_of  # noqa: E402 - after the path above
from contracts.twilio import SIGNATURE_HEADER  # noqa: E402
from testkit.twilio import (  # noqa: E402
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_OUR_NUMBER,
    SMS_PATH,
    VOICE_PATH,
    VOICE_STATUS_PATH,
    SentMessage,
    TwilioApiStandIn,
    basic_auth,
    new_sid,
    sign,
    sms_form,
)

DEFAULT_API_PORT = 8787
TEST_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


# --- small helpers -------------------------------------------------------------------------------


def read_dotenv(path: Path = ROOT / ".env") -> dict[str, str]:
    """KEY=VALUE lines of the local .env (the environment wins over it)."""
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip().strip("'\"")
    return values


def setting(name: str, default: str) -> str:
    return os.environ.get(name) or read_dotenv().get(name) or default


class Style:
    """ANSI colours on a terminal, plain text elsewhere."""

    on = sys.stdout.isatty() and os.environ.get("NO_COLOR") is None

    @classmethod
    def paint(cls, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if cls.on else text

    @classmethod
    def bot(cls, text: str) -> str:
        return cls.paint("1;36", text)

    @classmethod
    def note(cls, text: str) -> str:
        return cls.paint("2", text)

    @classmethod
    def warn(cls, text: str) -> str:
        return cls.paint("33", text)


# --- SMS -----------------------------------------------------------------------------------------


@dataclass
class Target:
    """Where a webhook really goes (`fetch`) and the URL Twilio would have called (`signed`)."""

    rasa_url: str
    public_base: str

    def split(self, url: str) -> tuple[str, str]:
        """(URL to request, URL to sign): URLs under the public base are served by the local rasa."""
        if self.public_base and url.startswith(self.public_base):
            return self.rasa_url + url[len(self.public_base) :], url
        return url, url


async def post_signed(
    session: ClientSession, target: Target, url: str, form: dict[str, str], auth_token: str
) -> tuple[int, str]:
    """POST `form` to `url` as Twilio would: signed for the URL exactly as written, and sent as
    written. (aiohttp would otherwise re-quote the query, e.g. `<Pay>`'s percent-encoded
    `return_url` as `return_url=http://...`, and the server would check another URL.)"""
    fetch, signed = target.split(url)
    headers = {SIGNATURE_HEADER: sign(signed, form, auth_token)}
    async with session.post(URL(fetch, encoded=True), data=form, headers=headers) as reply:
        return reply.status, await reply.text()


class SmsPhone:
    HELP = (
        "Type a text and press Enter. Commands:\n"
        "  /mms          send a picture with no text\n"
        "  /long         send a 1,700-character text\n"
        "  /dup          deliver your last text again (same MessageSid, like a Twilio retry)\n"
        "  /burst        deliver your last text twice at the same moment\n"
        "  /help         this list           /quit  hang up the phone (Ctrl-D works too)"
    )

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.phone = args.from_
        self.target = Target(args.rasa.rstrip("/"), (args.public_base or args.rasa).rstrip("/"))
        self.api = TwilioApiStandIn(args.account_sid, args.auth_token, on_message=self._show, on_refused=self._refused)
        self.last_form: dict[str, str] | None = None
        self.arrived = asyncio.Event()

    def _show(self, message: SentMessage) -> None:
        who = "bot" if message.to == self.phone else f"bot → {message.to}"
        for i, line in enumerate(message.body.splitlines() or [""]):
            print(Style.bot(f"{who}> " if i == 0 else " " * (len(who) + 2)) + line)
        print(Style.note(f"      ({len(message.body)} chars, {message.sid[:10]}…)"))
        self.arrived.set()

    def _refused(self, to: str, why: str) -> None:
        print(Style.warn(f"[Twilio would not deliver a reply to {to}: {why}]"))
        if to == self.phone and "opted out" in why:
            print(Style.note("[text START to opt back in]"))
        self.arrived.set()

    def form(self, body: str, media: bool = False) -> dict[str, str]:
        return sms_form(body, self.phone, self.args.to, self.args.account_sid, state=self.args.state, media=media)

    async def deliver(self, session: ClientSession, form: dict[str, str]) -> bool:
        try:
            status, text = await post_signed(
                session, self.target, self.target.public_base + SMS_PATH, form, self.args.auth_token
            )
        except OSError as exc:
            print(Style.warn(f"[cannot reach rasa at {self.target.rasa_url}: {exc}. Is `make run` running?]"))
            return False
        if status != 200:
            print(Style.warn(f"[rasa answered HTTP {status}: {text[:200]}]"))
            if status == 403:
                print(
                    Style.warn(
                        "[signature refused: rasa's TWILIO_AUTH_TOKEN / TWILIO_PUBLIC_BASE_URL differ from "
                        "this script's --auth-token / --public-base]"
                    )
                )
            return False
        return True

    def twilio_keywords(self, body: str) -> bool:
        """What Twilio's Advanced Opt-Out does on its own; True when the text was a keyword."""
        kind = keyword_of(body)
        if kind == OPT_OUT:
            self.api.opted_out.add(self.phone)
            print(
                Style.note(
                    "twilio> You have successfully been unsubscribed. You will not receive any more "
                    "messages from this number. Reply START to resubscribe.  (Twilio's own reply)"
                )
            )
            return True
        if kind == OPT_IN:
            self.api.opted_out.discard(self.phone)
            print(
                Style.note(
                    "twilio> You have successfully been re-subscribed to messages from this number. "
                    "Reply HELP for help. Reply STOP to unsubscribe.  (Twilio's own reply)"
                )
            )
            return True
        return False

    async def wait_for_replies(self, expect: bool) -> None:
        """Up to 30 s for the first reply, then until 1.5 s pass without another."""
        timeout = 30.0 if expect else 2.0
        while True:
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), timeout)
            except asyncio.TimeoutError:
                if expect and timeout == 30.0:
                    print(
                        Style.warn(f"[no reply within 30 s: is rasa's TWILIO_API_BASE {self.api.base_url}? see --help]")
                    )
                return
            timeout = 1.5

    async def run(self) -> int:
        await self.api.start(self.args.api_port)
        print(Style.note(f"Phone {self.phone} texting {self.args.to} through {self.target.rasa_url}{SMS_PATH}"))
        print(
            Style.note(
                f"Twilio REST API stand-in on {self.api.base_url}: start rasa with "
                f"TWILIO_API_BASE={self.api.base_url} (see --help)."
            )
        )
        print(Style.note(self.HELP))
        loop = asyncio.get_running_loop()
        async with ClientSession(timeout=ClientTimeout(total=60)) as session:
            while True:
                try:
                    line = await loop.run_in_executor(None, input, "you> ")
                except (EOFError, KeyboardInterrupt):
                    print()
                    break
                command = line.strip().lower()
                if command in ("/quit", "/exit"):
                    break
                if command == "/help":
                    print(Style.note(self.HELP))
                    continue
                if command in ("/dup", "/burst"):
                    if not self.last_form:
                        print(Style.note("[nothing sent yet]"))
                        continue
                    copies = 1 if command == "/dup" else 2
                    print(
                        Style.note(
                            f"[delivering MessageSid {self.last_form['MessageSid'][:10]}… again ×{copies}: "
                            "expect no new reply]"
                        )
                    )
                    await asyncio.gather(*(self.deliver(session, self.last_form) for _ in range(copies)))
                    await self.wait_for_replies(expect=False)
                    continue
                if command == "/mms":
                    form = self.form("", media=True)
                elif command == "/long":
                    form = self.form(("This is a very long message about my account. " * 40)[:1700])
                else:
                    form = self.form(line)
                self.last_form = form
                keyword = self.twilio_keywords(form["Body"])
                if await self.deliver(session, form):
                    await self.wait_for_replies(expect=not keyword or form["Body"].strip().upper() == "HELP")
        await self.api.stop()
        return 0


# --- voice ---------------------------------------------------------------------------------------


class CallEnded(Exception):
    pass


class VoicePhone:
    HELP = (
        "At a prompt: type digits (and * or #) to press keys, words to speak, or just Enter to "
        "stay silent. /hangup ends the call."
    )

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.target = Target(args.rasa.rstrip("/"), (args.public_base or args.rasa).rstrip("/"))
        self.call_sid = new_sid("CA")
        self.base = {
            "AccountSid": args.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": self.call_sid,
            "CallStatus": "in-progress",
            "Called": args.to,
            "Caller": args.from_,
            "Direction": "inbound",
            "From": args.from_,
            "FromCountry": "US",
            "FromState": args.state,
            "To": args.to,
            "ToCountry": "US",
        }

    async def ask(self, prompt: str) -> str:
        loop = asyncio.get_running_loop()
        try:
            line = await loop.run_in_executor(None, input, prompt)
        except (EOFError, KeyboardInterrupt):
            raise CallEnded("you hung up") from None
        if line.strip().lower() in ("/hangup", "/quit"):
            raise CallEnded("you hung up")
        return line

    async def post(self, session: ClientSession, url: str, extra: dict[str, str]) -> ET.Element:
        form = {**self.base, **extra}
        status, text = await post_signed(session, self.target, url, form, self.args.auth_token)
        if status != 200:
            raise CallEnded(f"{url} answered HTTP {status}: {text[:200]} — Twilio would play an application error")
        try:
            return ET.fromstring(text)
        except ET.ParseError:
            raise CallEnded(f"{url} did not answer TwiML: {text[:200]}") from None

    def say(self, node: ET.Element) -> None:
        print(Style.bot("🔊 ") + (node.text or "").strip())

    async def run(self) -> int:
        print(
            Style.note(
                f"Calling {self.args.to} from {self.args.from_} (CallSid {self.call_sid[:10]}…) "
                f"through {self.target.rasa_url}{VOICE_PATH}"
            )
        )
        print(Style.note(self.HELP))
        url, extra = self.target.public_base + VOICE_PATH, {"CallStatus": "ringing"}
        async with ClientSession(timeout=ClientTimeout(total=90)) as session:
            try:
                while True:
                    document = await self.post(session, url, extra)
                    url, extra = await self.walk(session, document, url)
            except CallEnded as ended:
                print(Style.note(f"[call ended: {ended}]"))
                await self.status_callback(session)
            except OSError as exc:
                print(Style.warn(f"[cannot reach {url}: {exc}. Is `make run` running?]"))
                return 1
        return 0

    async def status_callback(self, session: ClientSession) -> None:
        """What Twilio posts to the number's status callback URL when the call is over: the
        connector ends the call's verification (channels/voice.py)."""
        url = self.target.public_base + VOICE_STATUS_PATH
        try:
            status, text = await post_signed(
                session,
                self.target,
                url,
                {**self.base, "CallStatus": "completed", "CallDuration": "60"},
                self.args.auth_token,
            )
        except OSError:
            return
        if status >= 300:
            print(Style.warn(f"[status callback answered HTTP {status}: {text[:200]}]"))

    async def walk(self, session: ClientSession, document: ET.Element, url: str) -> tuple[str, dict[str, str]]:
        """Play one TwiML document; where Twilio would go next and with what."""
        if document.tag != "Response":
            raise CallEnded(f"not TwiML: <{document.tag}>")
        if len(document) == 0:
            raise CallEnded("empty <Response/>: Twilio hangs up")
        for verb in document:
            tag = verb.tag
            if tag == "Say":
                self.say(verb)
            elif tag == "Pause":
                seconds = int(verb.get("length", "1"))
                if seconds >= 5:
                    await self.ask(Style.note(f"[silence for {seconds}s — Enter to let it pass] "))
                else:
                    await asyncio.sleep(min(seconds, 1))
            elif tag == "Play":
                print(Style.note(f"♪ [music: {verb.text}]"))
                await self.ask(Style.note("[on hold — Enter to keep holding] "))
            elif tag == "Gather":
                return await self.gather(verb, url)
            elif tag == "Redirect":
                return urljoin(url, (verb.text or "").strip()), {}
            elif tag == "Pay":
                return await self.pay(session, verb, url)
            elif tag == "Dial":
                return await self.dial(session, verb, url)
            elif tag == "Enqueue":
                task = verb.find("Task")
                print(
                    Style.note(
                        f"[the call waits in Twilio's queue for an agent (TaskRouter workflow "
                        f"{verb.get('workflowSid') or verb.text}); task: {task.text if task is not None else '-'}]"
                    )
                )
                raise CallEnded("in the agents' queue (beyond this simulator)")
            elif tag == "Hangup":
                raise CallEnded("the assistant hung up")
            else:
                print(Style.warn(f"[<{tag}> is not simulated]"))
        raise CallEnded("no more TwiML: Twilio hangs up")

    async def gather(self, gather: ET.Element, url: str) -> tuple[str, dict[str, str]]:
        for child in gather:
            if child.tag == "Say":
                self.say(child)
            elif child.tag == "Pause":
                pass
        digits = gather.get("numDigits")
        hint = "keys or words" + (f", {digits} key{'s' if digits != '1' else ''}" if digits else "")
        line = (await self.ask(Style.note(f"[{hint}] ") + "you> ")).strip()
        action = urljoin(url, gather.get("action") or url)
        if re.fullmatch(r"[0-9*#]+", line):
            pressed = line.rstrip("#") or ""
            if digits:
                pressed = pressed[: int(digits)]
            return action, {"Digits": pressed, "FinishedOnKey": "#" if line.endswith("#") else ""}
        if line:
            return action, {"SpeechResult": line, "Confidence": "0.91"}
        if gather.get("actionOnEmptyResult") == "true":
            return action, {}
        raise CallEnded("silence after a <Gather> without actionOnEmptyResult: Twilio moves on")

    async def pay(self, session: ClientSession, pay: ET.Element, url: str) -> tuple[str, dict[str, str]]:
        print(
            Style.note(
                f"[<Pay> with {pay.get('paymentConnector')}, tokenType {pay.get('tokenType')}, "
                f"{'charge ' + pay.get('chargeAmount', '') if pay.get('chargeAmount') else 'tokenize only'}: "
                "Twilio would now ask for the card on the keypad, out of the assistant's hearing]"
            )
        )
        choice = (
            (await self.ask(Style.note("  (s)ucceed with a test card, (d)eclined card, (f)ail, (h)ang up? ")))
            .strip()
            .lower()
        )
        if choice.startswith("h"):
            raise CallEnded("you hung up during <Pay>")
        action = urljoin(url, pay.get("action") or url)
        if choice.startswith("f"):
            result = {"Result": "too-many-failed-attempts", "PaymentError": "Too many failed attempts"}
        else:
            card = DECLINED_CARD if choice.startswith("d") else TEST_CARD
            token = await self.test_payment_method(session, card)
            result = {
                "Result": "success",
                "PaymentToken": token,
                "PaymentCardType": "visa",
                "PaymentCardNumber": "xxxx-xxxx-xxxx-" + card[-4:],
                "ExpirationDate": "1230",
                "PaymentConfirmationCode": "",
                "PaymentMethod": "credit-card",
            }
        print(Style.note(f"[Twilio posts the <Pay> result to {action.split('?')[0]}]"))
        return action, result

    async def test_payment_method(self, session: ClientSession, card: str) -> str:
        """A Stripe PaymentMethod for a test card from localstripe, standing in for Twilio's Stripe connector."""
        base = setting("STRIPE_API_BASE", f"http://127.0.0.1:{setting('LOCALSTRIPE_PORT', '8420')}").rstrip("/")
        key = setting("STRIPE_API_KEY", "sk_test_localstripe")
        form = {
            "type": "card",
            "card[number]": card,
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
        }
        try:
            async with session.post(
                f"{base}/v1/payment_methods", data=form, headers={"Authorization": basic_auth(key, "")}
            ) as reply:
                data = await reply.json(content_type=None)
                if reply.status == 200 and str(data.get("id", "")).startswith("pm_"):
                    print(Style.note(f"[test card ending {card[-4:]} tokenized by localstripe: {data['id']}]"))
                    return str(data["id"])
                print(Style.warn(f"[localstripe refused the test card: HTTP {reply.status}]"))
        except (OSError, ValueError) as exc:
            print(Style.warn(f"[localstripe not reachable at {base}: {exc}]"))
        return (await self.ask("  PaymentMethod id to send instead (Enter: pm_card_visa): ")).strip() or "pm_card_visa"

    async def dial(self, session: ClientSession, dial: ET.Element, url: str) -> tuple[str, dict[str, str]]:
        for number in dial:
            target = (number.text or "").strip()
            print(Style.note(f"[dialing the agent at {target}]"))
            whisper_url = number.get("url")
            if whisper_url:
                document = await self.post(
                    session, urljoin(url, whisper_url), {"To": target, "Direction": "outbound-dial"}
                )
                for say in document.iter("Say"):
                    print(Style.note("  agent hears first: ") + (say.text or "").strip())
        choice = (await self.ask(Style.note("  (a)gent answers and you talk, or (n)o answer? "))).strip().lower()
        status = "completed" if choice.startswith("a") else "no-answer"
        if status == "completed":
            print(Style.note("[… you talk with the agent; the agent hangs up …]"))
        action = dial.get("action")
        if not action:
            raise CallEnded("the <Dial> ended and nothing follows")
        return urljoin(url, action), {
            "DialCallStatus": status,
            "DialCallSid": new_sid("CA"),
            "DialCallDuration": "95" if status == "completed" else "0",
        }


# --- command line --------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    api_base = setting("TWILIO_API_BASE", "")
    api_port = int(m.group(1)) if (m := re.search(r":(\d+)/?$", api_base)) else DEFAULT_API_PORT
    main = argparse.ArgumentParser(
        prog="phone.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--from",
        dest="from_",
        default="+15125550101",
        help="your phone number, E.164 (default: Maria Lopez's demo number, +15125550101)",
    )
    common.add_argument(
        "--to",
        default=setting("TWILIO_FROM_NUMBER", DEFAULT_OUR_NUMBER),
        help="the assistant's number (default: TWILIO_FROM_NUMBER or %(default)s)",
    )
    common.add_argument("--state", default="TX", help="FromState Twilio reports for your number (default: TX)")
    common.add_argument(
        "--rasa",
        default=setting("RASA_URL", "http://127.0.0.1:5005"),
        help="the running rasa server (default: RASA_URL or %(default)s)",
    )
    common.add_argument(
        "--public-base",
        default=setting("TWILIO_PUBLIC_BASE_URL", ""),
        help="the public base URL rasa checks signatures against, if it has one "
        "(TWILIO_PUBLIC_BASE_URL); requests still go to --rasa",
    )
    common.add_argument(
        "--auth-token",
        default=setting("TWILIO_AUTH_TOKEN", DEFAULT_AUTH_TOKEN),
        help="Twilio auth token to sign with (default: TWILIO_AUTH_TOKEN or the local default)",
    )
    common.add_argument("--account-sid", default=setting("TWILIO_ACCOUNT_SID", DEFAULT_ACCOUNT_SID))
    commands = main.add_subparsers(dest="mode", required=True)
    sms = commands.add_parser(
        "sms",
        parents=[common],
        help="text the assistant",
        description="Text the assistant; replies arrive through the Twilio REST API stand-in.",
    )
    sms.add_argument(
        "--api-port",
        type=int,
        default=api_port,
        help="port of the Twilio REST API stand-in; rasa needs TWILIO_API_BASE=http://127.0.0.1:PORT "
        "(default: the port in TWILIO_API_BASE, else %(default)s)",
    )
    commands.add_parser(
        "voice",
        parents=[common],
        help="call the assistant",
        description="Call the assistant: hear its TwiML, answer with keys or words.",
    )
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not re.fullmatch(r"\+[1-9]\d{6,14}", args.from_):
        print(f"--from must be an E.164 number like +15125550101, not {args.from_!r}", file=sys.stderr)
        return 2
    phone = SmsPhone(args) if args.mode == "sms" else VoicePhone(args)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(phone.run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
