"""Migrations of the participant database (the Alembic scripts in `migrations/`, beside this module)."""

from __future__ import annotations

from pathlib import Path

from database.migrations import Migrations

MIGRATIONS = Migrations(Path(__file__).parent / "migrations")
upgrade = MIGRATIONS.upgrade
make_revision = MIGRATIONS.make_revision
wait_migrated = MIGRATIONS.wait_migrated
alembic_config = MIGRATIONS.config
