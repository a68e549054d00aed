"""The admin release route: 204 released, 404 unknown, 409 when the session kept changing."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient

from conversation.admin import admin_router
from conversation.domain.session import ChatSession
from conversation.sessions import InMemorySessions

KEY = "meta:biz:5564999990000"
AUTH = {"Authorization": "Bearer t0ken"}


class AlwaysMovedOn(InMemorySessions):
    """Another handler saves between every read and write."""

    async def save(self, session: ChatSession, *, over: ChatSession | None) -> bool:
        return False


def client(sessions: InMemorySessions) -> TestClient:
    app = FastAPI()
    app.include_router(admin_router(sessions, "t0ken"))
    return TestClient(app)


def test_release_answers_204_404_and_409() -> None:
    sessions = InMemorySessions()
    sessions.items[KEY] = ChatSession.start(KEY, datetime(2027, 1, 10, tzinfo=UTC))
    assert client(sessions).post(f"/admin/conversations/{KEY}/release", headers=AUTH).status_code == 204
    assert sessions.items[KEY].revision == 1
    assert client(sessions).post("/admin/conversations/meta:x:1/release", headers=AUTH).status_code == 404
    busy = AlwaysMovedOn()
    busy.items[KEY] = sessions.items[KEY]
    answer = client(busy).post(f"/admin/conversations/{KEY}/release", headers=AUTH)
    assert answer.status_code == 409 and "try again" in answer.json()["detail"]
