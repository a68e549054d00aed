"""congress-ops: queues, dead letters, handoffs, key rotation, for operators (--help everywhere).

Connects with the same settings as the services: ``AMQP_URL`` (RabbitMQ), and for handoffs
``CONVERSATION_URL`` and ``CONVERSATION_ADMIN_TOKEN``. See docs/OPERATIONS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aio_pika
import httpx

from ops import dead_letters
from ops.queues import dead_letter_names, queue_names, states

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def _amqp(args: argparse.Namespace) -> str:
    return str(args.amqp_url or os.environ.get("AMQP_URL") or DEFAULT_AMQP_URL)


async def _with_connection(args: argparse.Namespace, work: Callable[[Any], Awaitable[int]]) -> int:
    connection = await aio_pika.connect(_amqp(args))
    async with connection:
        return await work(connection)


def cmd_queues(args: argparse.Namespace) -> int:
    names = dead_letter_names() if args.dead_letters else queue_names()

    async def work(connection: Any) -> int:
        print(f"{'queue':<48} {'messages':>9} {'consumers':>9}")
        for state in await states(connection, names):
            if state.messages is None:
                print(f"{state.name:<48} {'(absent)':>9}")
            elif state.messages or not args.non_empty:
                print(f"{state.name:<48} {state.messages:>9} {state.consumers:>9}")
        return 0

    return asyncio.run(_with_connection(args, work))


def cmd_dlq_show(args: argparse.Namespace) -> int:
    async def work(connection: Any) -> int:
        letters = await dead_letters.inspect(connection, args.queue, args.limit)
        for letter in letters:
            print(
                f"{letter.message_id}  {letter.type}  died in {letter.died_in} ({letter.reason}, "
                f"{letter.times}x, first {letter.first_death})"
            )
            if args.bodies:
                print(f"    {letter.body[:2000].decode(errors='replace')}")
        print(f"{len(letters)} message(s) shown; nothing was removed")
        return 0

    return asyncio.run(_with_connection(args, work))


def _match(args: argparse.Namespace) -> dead_letters.Match:
    if not (args.id or args.type or args.all):
        raise SystemExit("say which: --id ID (repeatable), --type TYPE, or --all")
    return dead_letters.matching(args.id, args.type)


def cmd_dlq_replay(args: argparse.Namespace) -> int:
    match = _match(args)

    async def work(connection: Any) -> int:
        done = await dead_letters.replay(connection, args.queue, match, args.limit)
        for letter in done:
            print(f"replayed {letter.message_id} ({letter.type}) → {letter.died_in}")
        print(f"{len(done)} message(s) replayed")
        return 0

    return asyncio.run(_with_connection(args, work))


def cmd_dlq_discard(args: argparse.Namespace) -> int:
    match = _match(args)

    async def work(connection: Any) -> int:
        done = await dead_letters.discard(connection, args.queue, match, args.note, args.limit)
        for letter in done:
            print(f"set aside {letter.message_id} ({letter.type}) in ops.discarded")
        print(f"{len(done)} message(s) moved to ops.discarded with the note")
        return 0

    return asyncio.run(_with_connection(args, work))


def cmd_handoff_release(args: argparse.Namespace) -> int:
    url = args.url or os.environ.get("CONVERSATION_URL", "http://127.0.0.1:8001")
    token = args.token or os.environ.get("CONVERSATION_ADMIN_TOKEN")
    if not token:
        raise SystemExit("CONVERSATION_ADMIN_TOKEN (or --token) is required")
    path = f"/admin/conversations/{quote(args.conversation_key, safe='')}/release"
    response = httpx.post(url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    if response.status_code == 204:
        print(f"released {args.conversation_key}: the bot answers this conversation again")
        return 0
    print(f"failed: {response.status_code} {response.text}", file=sys.stderr)
    return 1


def cmd_cpf_rotate(args: argparse.Namespace) -> int:
    from registration.__main__ import rotate_cpf_key
    from registration.config import RegistrationSettings

    asyncio.run(rotate_cpf_key(RegistrationSettings(), args.batch_size))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="congress-ops", description=__doc__.splitlines()[0])
    root.add_argument("--amqp-url", help="RabbitMQ (default: $AMQP_URL)")
    sub = root.add_subparsers(dest="command", required=True)

    queues = sub.add_parser("queues", help="depth and consumers of every queue of the topology")
    queues.add_argument("--dead-letters", action="store_true", help="only dead-letter and ops queues")
    queues.add_argument("--non-empty", action="store_true", help="hide empty queues")
    queues.set_defaults(func=cmd_queues)

    dlq = sub.add_parser("dlq", help="dead letters: show, replay, discard").add_subparsers(
        dest="action", required=True
    )
    show = dlq.add_parser("show", help="list a dead-letter queue's messages with why they died")
    show.add_argument("queue", help="e.g. conversation.inbox.dlq, notifier.inbox.dlq")
    show.add_argument("--limit", type=int, default=20)
    show.add_argument("--bodies", action="store_true", help="print each message's body too")
    show.set_defaults(func=cmd_dlq_show)
    for name, func, helptext in (
        ("replay", cmd_dlq_replay, "send messages back to the queue they died in"),
        ("discard", cmd_dlq_discard, "move messages to ops.discarded with a note"),
    ):
        action = dlq.add_parser(name, help=helptext)
        action.add_argument("queue")
        action.add_argument("--id", action="append", help="a message id (repeatable)")
        action.add_argument("--type", help="only messages of this type, e.g. message.received.v1")
        action.add_argument("--all", action="store_true", help="every message (up to --limit)")
        action.add_argument("--limit", type=int, default=1000)
        if name == "discard":
            action.add_argument("--note", required=True, help="why (kept with the message)")
        action.set_defaults(func=func)

    handoff = sub.add_parser("handoff", help="conversations attended by a person").add_subparsers(
        dest="action", required=True
    )
    release = handoff.add_parser("release", help="the bot answers this conversation again")
    release.add_argument("conversation_key", help="'<provider>:<business_id>:<user id>'")
    release.add_argument("--url", help="conversation's base URL (default: $CONVERSATION_URL)")
    release.add_argument("--token", help="default: $CONVERSATION_ADMIN_TOKEN")
    release.set_defaults(func=cmd_handoff_release)

    cpf = sub.add_parser("cpf", help="the CPF encryption keys").add_subparsers(dest="action", required=True)
    rotate = cpf.add_parser(
        "rotate",
        help="re-encrypt every CPF under CPF_ACTIVE_KEY_ID, online, in batches (reads the registration "
        "settings: DATABASE_URL, CPF_ENCRYPTION_KEYS, CPF_ACTIVE_KEY_ID, CPF_HMAC_KEY)",
    )
    rotate.add_argument("--batch-size", type=int, default=500)
    rotate.set_defaults(func=cmd_cpf_rotate)
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    sys.exit(args.func(args))


if __name__ == "__main__":
    main()
