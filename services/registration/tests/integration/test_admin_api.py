"""The admin API over ASGI with the real database and broker: tokens and scopes, the audit trail,
search, exports with the full CPF, statistics, cancellation and LGPD requests; then schemathesis
against its own OpenAPI document."""

from __future__ import annotations

import csv
import io
import uuid

import httpx
import pytest
import schemathesis
from asgi_lifespan import LifespanManager
from database.engine import create_engine, create_sessionmaker
from hypothesis import HealthCheck, given, settings
from openpyxl import load_workbook
from sqlalchemy import select

from registration.admin.tokens import Scope, TokenStore
from registration.app import create_app
from registration.config import RegistrationSettings
from registration.models import AuditEntry
from registration.service import Registrations

from .conftest import a_submit

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def admin(amqp_url, database_url):
    """The running app, a client, the tokens by scope set, and a fresh event with 3 participants."""
    settings_ = RegistrationSettings(_env_file=None, amqp_url=amqp_url, database_url=database_url)
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    store = TokenStore(sessions)
    suffix = uuid.uuid4().hex[:6]
    tokens = {
        "reader": await store.create(f"reader-{suffix}", [Scope.READ]),
        "all": await store.create(f"organiser-{suffix}", [Scope.READ, Scope.EXPORT, Scope.WRITE]),
    }
    event = f"evt-{suffix}"
    registrations = Registrations(sessions, settings_.cpf_vault(), "AGR")
    codes = [(await registrations.submit(a_submit(event, n, p))).code for n, p in
             enumerate(["produtor", "produtor", "estudante"], start=500)]  # fmt: skip
    app = create_app(settings_)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client, tokens, event, codes, sessions, app
    await engine.dispose()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_token_bad_token_and_missing_scope_are_refused_and_audited(admin):
    client, tokens, *_, sessions, _ = admin
    assert (await client.get("/admin/participants")).status_code == 401
    assert (await client.get("/admin/participants", headers=auth("cgr_nope"))).status_code == 401
    refused = await client.get("/admin/exports/participants.csv", headers=auth(tokens["reader"]))
    assert refused.status_code == 403
    async with sessions() as db:
        last = (await db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(3))).all()
    assert [(e.actor.split("-")[0], e.path, e.status_code) for e in last] == [
        ("reader", "/admin/exports/participants.csv", 403),
        ("anonymous", "/admin/participants", 401),
        ("anonymous", "/admin/participants", 401),
    ]


async def test_search_pages_and_masks_the_cpf(admin):
    client, tokens, event, codes, *_ = admin
    page = (
        await client.get("/admin/participants", params={"q": codes[0]}, headers=auth(tokens["reader"]))
    ).json()
    assert page["total"] == 1 and page["items"][0]["code"] == codes[0]
    assert page["items"][0]["cpf_masked"].startswith("***.")
    by_cpf = await client.get("/admin/participants", params={"q": a_submit(event, 501).cpf},
                              headers=auth(tokens["reader"]))  # fmt: skip
    assert [p["code"] for p in by_cpf.json()["items"]] == [codes[1]]
    second = await client.get("/admin/participants", params={"page": 2, "page_size": 1, "q": "@example.com",
                                                             "profile": "produtor"},
                              headers=auth(tokens["reader"]))  # fmt: skip
    assert second.json()["page"] == 2 and len(second.json()["items"]) == 1


async def test_csv_and_xlsx_exports_carry_the_full_cpf(admin):
    client, tokens, event, codes, *_ = admin
    answer = await client.get(
        "/admin/exports/participants.csv", params={"q": f"{event}"}, headers=auth(tokens["all"])
    )
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    # q matched none (event ids are not searched); export everything and pick ours
    everything = await client.get("/admin/exports/participants.csv", headers=auth(tokens["all"]))
    rows = [
        r for r in csv.DictReader(io.StringIO(everything.content.decode("utf-8-sig"))) if r["code"] in codes
    ]
    assert sorted(r["cpf"] for r in rows) == sorted(a_submit(event, n).cpf for n in (500, 501, 502))
    xlsx = await client.get("/admin/exports/participants.xlsx", params={"profile": "estudante"},
                            headers=auth(tokens["all"]))  # fmt: skip
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "code" and any(
        row[0] == codes[2] and row[4] == a_submit(event, 502).cpf for row in values
    )


async def test_stats_count_by_profile_uf_day_and_the_funnel(admin):
    client, tokens, event, *_ = admin
    stats = (
        await client.get("/admin/stats", params={"event_id": event}, headers=auth(tokens["reader"]))
    ).json()
    assert {c["key"]: c["count"] for c in stats["by_profile"]} == {"estudante": 1, "produtor": 2}
    assert stats["by_uf"] == [{"key": "GO", "count": 3}] and sum(d["count"] for d in stats["by_day"]) == 3
    assert {"key": "registration.completed:confirmed", "count": 3} in stats["funnel"]


async def test_cancel_then_personal_data_then_erase(admin):
    client, tokens, event, codes, *_ = admin
    code = codes[1]
    cancelled = await client.post(f"/admin/participants/{code}/cancel", headers=auth(tokens["all"]))
    assert cancelled.json() == {"outcome": "cancelled", "code": code}
    data = (await client.get(f"/admin/participants/{code}/personal-data", headers=auth(tokens["all"]))).json()
    assert data["cpf"] == a_submit(event, 501).cpf
    assert [e["routing_key"] for e in data["events"]] == ["registration.completed", "registration.cancelled"]
    assert data["events"][1]["cancelled_by"].startswith("organiser-")
    erased = await client.delete(f"/admin/participants/{code}/personal-data", headers=auth(tokens["all"]))
    assert erased.json()["status"] == "erased" and erased.json()["cpf_masked"] is None
    again = await client.delete(f"/admin/participants/{code}/personal-data", headers=auth(tokens["all"]))
    assert again.status_code == 404


async def test_a_revoked_token_is_refused(admin):
    client, _, _, _, sessions, _ = admin
    store = TokenStore(sessions)
    token = await store.create(f"temp-{uuid.uuid4().hex[:6]}", [Scope.READ])
    assert (await client.get("/admin/stats", headers=auth(token))).status_code == 200
    assert await store.revoke((await store.list())[-1].name)
    assert (await client.get("/admin/stats", headers=auth(token))).status_code == 401


def test_every_admin_endpoint_answers_as_documented(admin, amqp_url, database_url):
    # Driven by hand (schemathesis's pytest plugin does not run under pytest 9 yet), in-process over
    # ASGI on an app of its own (schemathesis runs it in its own event loop), with every scope.
    _, tokens, *_ = admin
    app = create_app(RegistrationSettings(_env_file=None, amqp_url=amqp_url, database_url=database_url))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=auth(tokens["all"]))

        check()
