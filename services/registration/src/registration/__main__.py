"""``congress-registration [serve|migrate|revision -m MSG|token create|revoke|list]``."""

from __future__ import annotations

import argparse
import asyncio

from database.engine import create_engine, create_sessionmaker

from common.runner import serve
from registration import migrate
from registration.admin.tokens import TokenStore, parse_scopes
from registration.app import SERVICE, create_app
from registration.config import RegistrationSettings
from registration.key_rotation import reencrypt_cpfs, rows_per_key


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="congress-registration")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the service (default)")
    sub.add_parser("migrate", help="create the database if missing and apply every migration")
    rotate = sub.add_parser(
        "rotate-cpf-key", help="re-encrypt every CPF under CPF_ACTIVE_KEY_ID (online, in batches)"
    )
    rotate.add_argument("--batch-size", type=int, default=500)
    wait = sub.add_parser("wait-migrated", help="wait until the schema is at this release's head")
    wait.add_argument("--timeout", type=float, default=600, help="seconds; exit 1 when they run out")
    revision = sub.add_parser("revision", help="autogenerate a migration from the models")
    revision.add_argument("-m", "--message", required=True)
    token = sub.add_parser("token", help="admin API tokens").add_subparsers(dest="action", required=True)
    create = token.add_parser("create", help="make a token and print it (once: only its hash is kept)")
    create.add_argument("--name", required=True, help="who holds it; shown in the audit log")
    create.add_argument("--scopes", required=True, help="comma-separated: read, export, write")
    token.add_parser("revoke", help="revoke a token").add_argument("--name", required=True)
    token.add_parser("list", help="list tokens (names, scopes, dates; never the tokens)")
    args = parser.parse_args(argv)

    settings = RegistrationSettings()
    if args.command == "migrate":
        migrate.upgrade(settings.database_url)
    elif args.command == "rotate-cpf-key":
        asyncio.run(rotate_cpf_key(settings, args.batch_size))
    elif args.command == "wait-migrated":
        if not migrate.wait_migrated(settings.database_url, args.timeout):
            raise SystemExit(f"the schema is not at this release's head after {args.timeout:.0f} s")
    elif args.command == "revision":
        migrate.make_revision(settings.database_url, args.message)
    elif args.command == "token":
        asyncio.run(manage_tokens(settings, args))
    else:
        serve(SERVICE, settings, lambda: create_app(settings))


async def rotate_cpf_key(settings: RegistrationSettings, batch_size: int) -> None:
    engine = create_engine(settings.database_url, pool_size=1)
    sessions = create_sessionmaker(engine)
    try:
        vault = settings.cpf_vault()
        moved = await reencrypt_cpfs(sessions, vault, batch_size=batch_size)
        print(f"re-encrypted {moved} CPF(s) under {vault.active_key_id}; rows per key now:")
        for key_id, count in sorted((await rows_per_key(sessions)).items()):
            print(f"  {key_id}: {count}")
    finally:
        await engine.dispose()


async def manage_tokens(settings: RegistrationSettings, args: argparse.Namespace) -> None:
    engine = create_engine(settings.database_url, pool_size=1)
    store = TokenStore(create_sessionmaker(engine))
    try:
        if args.action == "create":
            print(await store.create(args.name, parse_scopes(args.scopes)))
        elif args.action == "revoke":
            if not await store.revoke(args.name):
                raise SystemExit(f"no active token named {args.name}")
            print(f"revoked {args.name}")
        else:
            for row in await store.list():
                state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
                print(f"{row.name}\t{','.join(row.scopes)}\t{row.created_at:%Y-%m-%d}\t{state}")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
