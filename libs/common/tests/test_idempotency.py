"""The claim rules, for the Redis store (real Redis) and its in-memory twin used by unit tests."""

import uuid

import pytest
from redis.asyncio import Redis

from common.idempotency import Claim, InMemoryClaims, RedisClaims


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
async def claims(request):
    if request.param == "memory":
        yield InMemoryClaims()
        return
    redis = Redis.from_url(request.getfixturevalue("redis_url"), decode_responses=True)
    yield RedisClaims(redis, prefix=f"test:{uuid.uuid4().hex}:", claim_ttl_s=60, done_ttl_s=60)
    await redis.aclose()


async def test_first_claim_wins_and_a_concurrent_one_is_told_in_flight(claims):
    assert await claims.claim("k") is Claim.ACQUIRED
    assert await claims.claim("k") is Claim.IN_FLIGHT


async def test_completed_key_is_done_even_for_a_redelivery(claims):
    await claims.claim("k")
    await claims.complete("k", "wamid.1")
    assert await claims.claim("k") is Claim.DONE
    assert await claims.claim("k", take_over=True) is Claim.DONE


async def test_released_key_can_be_claimed_again(claims):
    await claims.claim("k")
    await claims.release("k")
    assert await claims.claim("k") is Claim.ACQUIRED


async def test_a_redelivery_takes_over_an_abandoned_claim(claims):
    await claims.claim("k")
    assert await claims.claim("k", take_over=True) is Claim.ACQUIRED


@pytest.mark.integration
async def test_a_claim_expires_so_a_dead_workers_key_frees_itself(redis_url):
    redis = Redis.from_url(redis_url, decode_responses=True)
    prefix = f"test:{uuid.uuid4().hex}:"
    store = RedisClaims(redis, prefix=prefix, claim_ttl_s=5, done_ttl_s=600)
    try:
        await store.claim("k")
        assert 0 < await redis.ttl(prefix + "k") <= 5
        await store.complete("k")
        assert 5 < await redis.ttl(prefix + "k") <= 600
    finally:
        await redis.aclose()
