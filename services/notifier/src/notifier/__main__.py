"""``congress-notifier``: run the notifier service."""

from __future__ import annotations

from common.runner import serve
from notifier.app import SERVICE, create_app
from notifier.config import NotifierSettings


def main() -> None:
    settings = NotifierSettings()
    serve(SERVICE, settings, lambda: create_app(settings))


if __name__ == "__main__":
    main()
