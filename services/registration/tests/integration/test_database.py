"""The participant database, built by the migrations on the real PostgreSQL."""

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from registration.app import create_app
from registration.config import RegistrationSettings
from registration.models import Base

pytestmark = pytest.mark.integration


async def test_migrations_create_the_participant_table_as_the_models_describe(database_url):
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:

            def describe(sync_conn):
                insp = inspect(sync_conn)
                return (
                    {c["name"] for c in insp.get_columns("participants")},
                    {tuple(i["column_names"]) for i in insp.get_indexes("participants") if i["unique"]},
                )

            columns, uniques = await conn.run_sync(describe)
    finally:
        await engine.dispose()
    assert columns == set(Base.metadata.tables["participants"].columns.keys())
    assert ("event_id", "cpf_hmac") in uniques
    assert ("event_id", "email") in uniques


async def test_service_is_ready_with_broker_and_database(amqp_url, database_url):
    app = create_app(RegistrationSettings(amqp_url=amqp_url, database_url=database_url))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            body = (await client.get("/readyz")).json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"broker", "database"}


def test_wait_migrated_knows_when_the_schema_is_at_head(database_url):
    from registration.migrate import wait_migrated

    assert wait_migrated(database_url, timeout_s=5)
    assert not wait_migrated(database_url.rsplit("/", 1)[0] + "/no_such_database", timeout_s=0.5)
