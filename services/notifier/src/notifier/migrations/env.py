"""Alembic environment of the notifier database (shared body: database.alembic_env)."""

from database.alembic_env import run

from notifier.models import Base

run(Base.metadata)
