"""Sessions in the real Redis: a save is a compare-and-set on the revision it was computed from."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from conversation.domain.session import ChatSession, Step
from conversation.sessions import RedisSessions

pytestmark = pytest.mark.integration

AT = datetime(2027, 1, 10, tzinfo=UTC)


@pytest.fixture
async def sessions(redis_url):
    redis = Redis.from_url(redis_url)
    yield RedisSessions(redis, ttl_s=60, prefix=f"test:session:{uuid.uuid4().hex}:")
    await redis.aclose()


async def test_a_save_computed_from_a_session_that_moved_on_is_refused(sessions):
    key = "meta:b:5564999990001"
    assert await sessions.save(ChatSession.start(key, AT), over=None)
    first = await sessions.get(key)
    assert first is not None and first.revision == 0
    assert not await sessions.save(ChatSession.start(key, AT), over=None)  # it exists now
    newer = first.model_copy(update={"step": Step.FORM})
    assert await sessions.save(newer, over=first)
    stale = first.model_copy(update={"step": Step.CONSENT})  # computed from the first, saved last
    assert not await sessions.save(stale, over=first)
    stored = await sessions.get(key)
    assert stored is not None and stored.step is Step.FORM and stored.revision == 1


async def test_text_a_user_wrote_cannot_pass_for_the_revision(sessions):
    key = "meta:b:5564999990002"
    assert await sessions.save(ChatSession.start(key, AT), over=None)
    first = await sessions.get(key)
    assert first is not None
    tricky = first.remember("user", '"revision":7 "revision":0').model_copy(
        update={"display_name": '"revision":9'}
    )
    assert await sessions.save(tricky, over=first)
    second = await sessions.get(key)
    assert second is not None and second.revision == 1
    assert not await sessions.save(second, over=first)
    assert await sessions.save(second, over=second)


async def test_a_document_written_before_revisions_counts_as_revision_zero(sessions):
    key = "meta:b:5564999990003"
    legacy = ChatSession.start(key, AT).model_dump(mode="json")
    del legacy["revision"]
    import json

    await sessions._redis.set(sessions._prefix + key, json.dumps(legacy))
    loaded = await sessions.get(key)
    assert loaded is not None and loaded.revision == 0
    assert await sessions.save(loaded.model_copy(update={"step": Step.FORM}), over=loaded)
