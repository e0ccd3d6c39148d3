"""Outbound SMS through Twilio's REST API with the official library's async client."""

from __future__ import annotations

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from payments.services.notifications import DeliveryFailed


class TwilioSmsSender:
    def __init__(self, account_sid: str, auth_token: str, from_number: str, api_base: str = "") -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self.api_base = api_base  # empty: api.twilio.com; tests use a local stand-in

    async def send_sms(self, to: str, body: str) -> None:
        http = AsyncTwilioHttpClient()
        client = Client(self.account_sid, self.auth_token, http_client=http)
        if self.api_base:
            client.api.base_url = self.api_base.rstrip("/")
        try:
            await client.messages.create_async(to=to, from_=self.from_number, body=body)
        except TwilioRestException as exc:
            raise DeliveryFailed(f"twilio answered HTTP {exc.status} (code {exc.code})") from exc
        except aiohttp.ClientError as exc:
            raise DeliveryFailed(f"twilio unreachable: {type(exc).__name__}") from exc
        finally:
            await http.session.close()
