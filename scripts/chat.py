"""A terminal chat with the running assistant over our token REST connector (`make chat`):
`POST /webhooks/rest/webhook` with `Authorization: Bearer $REST_CHANNEL_TOKEN`; the conversation
is `rest-<CHAT_SENDER>` (channels/rest.py)."""

from __future__ import annotations

import os
import sys
import uuid

import httpx

DEV_REST_CHANNEL_TOKEN = "dev-rest-token"  # channels/config.py's development default


def main() -> int:
    url = f"{os.environ.get('RASA_URL', 'http://127.0.0.1:5005')}/webhooks/rest/webhook"
    sender = os.environ.get("CHAT_SENDER", f"terminal-{uuid.uuid4().hex[:8]}")
    headers = {"Authorization": f"Bearer {os.environ.get('REST_CHANNEL_TOKEN') or DEV_REST_CHANNEL_TOKEN}"}
    print(f"Chatting as rest-{sender} with {url}. Ctrl-D or /quit to leave.")
    with httpx.Client(timeout=30, headers=headers) as client:
        while True:
            try:
                text = input("you> ").strip()
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if text in ("/quit", "/exit"):
                return 0
            if not text:
                continue
            try:
                response = client.post(url, json={"sender": sender, "message": text})
            except httpx.HTTPError as exc:
                print(f"[cannot reach the assistant: {exc}; is `make run` running?]")
                continue
            if response.status_code != 200:
                try:
                    problem = response.json().get("error")
                except ValueError:
                    problem = response.text[:200]
                print(f"[the assistant refused the message: HTTP {response.status_code}: {problem}]")
                if response.status_code in (401, 403):
                    print("[set REST_CHANNEL_TOKEN to the rasa server's token]")
                continue
            for reply in response.json():
                if "text" in reply:
                    print(f"bot> {reply['text']}")
                for i, button in enumerate(reply.get("buttons") or [], start=1):
                    print(f"     {i}. {button.get('title')}")


if __name__ == "__main__":
    sys.exit(main())
