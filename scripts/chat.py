"""A terminal chat with the running assistant over Rasa's REST channel (`make chat`)."""

from __future__ import annotations

import os
import sys
import uuid

import httpx


def main() -> int:
    url = f"{os.environ.get('RASA_URL', 'http://127.0.0.1:5005')}/webhooks/rest/webhook"
    sender = os.environ.get("CHAT_SENDER", f"terminal-{uuid.uuid4().hex[:8]}")
    print(f"Chatting as {sender} with {url}. Ctrl-D or /quit to leave.")
    with httpx.Client(timeout=30) as client:
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
                replies = client.post(url, json={"sender": sender, "message": text}).json()
            except httpx.HTTPError as exc:
                print(f"[cannot reach the assistant: {exc}; is `make run` running?]")
                continue
            for reply in replies:
                if "text" in reply:
                    print(f"bot> {reply['text']}")
                for i, button in enumerate(reply.get("buttons") or [], start=1):
                    print(f"     {i}. {button.get('title')}")


if __name__ == "__main__":
    sys.exit(main())
