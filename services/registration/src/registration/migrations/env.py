"""Alembic environment of the registration database (shared body: database.alembic_env)."""

from database.alembic_env import run

from registration.models import Base

run(Base.metadata)
