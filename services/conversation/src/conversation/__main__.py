"""``congress-conversation``: run the conversation service."""

from __future__ import annotations

from common.runner import serve
from conversation.app import SERVICE, create_app
from conversation.config import ConversationSettings


def main() -> None:
    settings = ConversationSettings()
    serve(SERVICE, settings, lambda: create_app(settings))


if __name__ == "__main__":
    main()
