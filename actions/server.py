"""The action server's entry point (contract C3): `python -m actions.server`.

rasa-sdk's own `rasa run actions` binds every interface and runs any action for anyone who can
reach it, with a tracker they wrote (issue 11: a forged `POST /webhook` with
`verification_status=verified` read another customer's balance). This server is rasa-sdk's app
for package `actions`, bound to ACTIONS_HOST (loopback by default) on ACTIONS_PORT, and it
refuses every request but `/health` without the shared secret ACTION_SERVER_TOKEN, which Rasa
sends as the `token` query parameter (bot/endpoints*.yml `action_endpoint.token`), before any
action runs.
"""

from __future__ import annotations

import hmac
import logging
import os

from rasa_sdk.endpoint import create_app as create_sdk_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.config import ActionSettings, get_settings

log = logging.getLogger(__name__)

OPEN_PATHS = ("/health",)
TOKEN_PARAMETER = "token"  # Rasa's EndpointConfig default `token_name`


def token_ok(given: str | None, expected: str) -> bool:
    """Constant-time comparison; an empty expected token never matches."""
    return bool(expected) and given is not None and hmac.compare_digest(given.encode(), expected.encode())


def create_app(settings: ActionSettings | None = None) -> Sanic:
    """rasa-sdk's Sanic app with the token check in front of every route but /health."""
    settings = settings or get_settings()
    # No CORS origins: no browser is meant to call the action server.
    app = create_sdk_app("actions", cors_origins="")

    @app.middleware("request")
    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if not token_ok(request.args.get(TOKEN_PARAMETER), settings.action_server_token):
            log.warning("refused %s %s without the action server token", request.method, request.path)
            return response.json({"error": "forbidden"}, status=403)
        return None

    return app


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = get_settings()  # production refuses development secrets here, before binding
    app = create_app(settings)
    log.info("action server on http://%s:%s", settings.actions_host, settings.actions_port)
    app.run(host=settings.actions_host, port=settings.actions_port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
