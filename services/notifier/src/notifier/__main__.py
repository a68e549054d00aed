"""``congress-notifier [serve|migrate|revision -m MSG]``."""

from __future__ import annotations

import argparse

from common.runner import serve
from notifier import migrate
from notifier.app import SERVICE, create_app
from notifier.config import NotifierSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="congress-notifier")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the service (default)")
    sub.add_parser("migrate", help="create the delivery-log database if missing and apply every migration")
    revision = sub.add_parser("revision", help="autogenerate a migration from the models")
    revision.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)

    settings = NotifierSettings()
    if args.command == "migrate":
        migrate.upgrade(settings.notifier_database_url)
    elif args.command == "revision":
        migrate.make_revision(settings.notifier_database_url, args.message)
    else:
        serve(SERVICE, settings, lambda: create_app(settings))


if __name__ == "__main__":
    main()
