"""The per-sender token bucket on the real Redis (its Lua script and Redis's clock)."""

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from ingress.ratelimit import RedisTokenBucket

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis(redis_url):
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def test_a_burst_then_cut_then_refilled(redis):
    bucket = RedisTokenBucket(redis, burst=5, per_minute=600, prefix=f"test:{uuid.uuid4().hex}:")  # 10/s
    results = [await bucket.allow("meta:biz:flooder") for _ in range(8)]
    assert results == [True] * 5 + [False] * 3
    await asyncio.sleep(0.35)  # ~3 tokens back
    refilled = [await bucket.allow("meta:biz:flooder") for _ in range(5)]
    assert 2 <= sum(refilled) <= 4


async def test_one_flooder_does_not_hurt_anyone_else(redis):
    bucket = RedisTokenBucket(redis, burst=3, per_minute=1, prefix=f"test:{uuid.uuid4().hex}:")
    flood = await asyncio.gather(*(bucket.allow("meta:biz:flooder") for _ in range(50)))
    assert sum(flood) == 3  # atomic across concurrent requests (replicas share the bucket)
    assert all([await bucket.allow(f"meta:biz:user{i}") for i in range(20)])
