"""Dedupe claims and the per-sender token bucket on the real Redis: one Lua script, Redis's clock."""

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from ingress.admission import RedisAdmission, Verdict, _Script
from ingress.resp import PipelinedRedis

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis(redis_url):
    """redis-py, to look at what the scripts wrote."""
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def lean(redis_url):
    client = PipelinedRedis(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def admission(lean):
    def build(*, burst=20, per_minute=30.0, claim_ttl_s=60, done_ttl_s=600) -> RedisAdmission:
        return _admission(
            lean, burst=burst, per_minute=per_minute, claim_ttl_s=claim_ttl_s, done_ttl_s=done_ttl_s
        )

    return build


def _admission(lean, *, burst, per_minute, claim_ttl_s, done_ttl_s) -> RedisAdmission:
    run = uuid.uuid4().hex
    return RedisAdmission(
        lean,
        prefix=f"test:{run}:seen:",
        rate_prefix=f"test:{run}:rate:",
        claim_ttl_s=claim_ttl_s,
        done_ttl_s=done_ttl_s,
        rate_burst=burst,
        rate_per_minute=per_minute,
    )


async def test_a_burst_then_cut_then_refilled(admission):
    gate = admission(burst=5, per_minute=600)  # 10/s
    results = [await gate.admit(f"m{i}", "meta:biz:flooder") for i in range(8)]
    assert results == [Verdict.ACQUIRED] * 5 + [Verdict.RATE_LIMITED] * 3
    await asyncio.sleep(0.35)  # ~3 tokens back
    refilled = [await gate.admit(f"r{i}", "meta:biz:flooder") for i in range(5)]
    assert 2 <= refilled.count(Verdict.ACQUIRED) <= 4


async def test_one_flooder_does_not_hurt_anyone_else(admission):
    gate = admission(burst=3, per_minute=1)
    flood = await asyncio.gather(*(gate.admit(f"f{i}", "meta:biz:flooder") for i in range(50)))
    assert flood.count(Verdict.ACQUIRED) == 3  # atomic across concurrent requests (replicas share it)
    assert [await gate.admit(f"u{i}", f"meta:biz:user{i}") for i in range(20)] == [Verdict.ACQUIRED] * 20


async def test_a_cut_message_is_remembered_and_its_redeliveries_spend_no_token(admission):
    gate = admission(burst=1, per_minute=1)
    assert await gate.admit("m1", "meta:biz:u") is Verdict.ACQUIRED
    assert await gate.admit("m2", "meta:biz:u") is Verdict.RATE_LIMITED
    assert await gate.admit("m2", "meta:biz:u") is Verdict.DONE
    assert await gate.admit("m1", "meta:biz:u") is Verdict.IN_FLIGHT  # claimed, not completed yet
    assert await gate.admit("receipt", None) is Verdict.ACQUIRED  # no sender: no limit


async def test_claim_complete_release_and_the_dedupe_ttl(admission, redis):
    gate = admission(done_ttl_s=8 * 24 * 3600)
    assert await gate.admit("a", None) is Verdict.ACQUIRED
    assert await gate.admit("b", None) is Verdict.ACQUIRED
    await gate.complete("a")
    await gate.release("b")
    await gate.drain()
    assert await gate.admit("a", None) is Verdict.DONE
    assert await gate.admit("b", None) is Verdict.ACQUIRED  # released: the retry goes through
    [key] = [k async for k in redis.scan_iter(match="test:*:seen:a")]
    assert await redis.get(key) == "done:"  # the value RedisClaims writes: replicas of both agree
    assert 8 * 24 * 3600 - 5 < await redis.ttl(key) <= 8 * 24 * 3600


async def test_completions_queued_together_are_written_together(admission):
    gate = admission()
    keys = [f"k{i}" for i in range(50)]
    for key in keys:
        assert await gate.admit(key, None) is Verdict.ACQUIRED
    await asyncio.gather(*(gate.complete(key) for key in keys))
    await gate.drain()
    assert [await gate.admit(key, None) for key in keys] == [Verdict.DONE] * 50


async def test_a_claim_left_by_a_crash_frees_itself(admission):
    gate = admission(claim_ttl_s=1)
    assert await gate.admit("lost", "meta:biz:u") is Verdict.ACQUIRED  # then the process dies
    assert await gate.admit("lost", "meta:biz:u") is Verdict.IN_FLIGHT
    await asyncio.sleep(1.2)
    assert await gate.admit("lost", "meta:biz:u") is Verdict.ACQUIRED  # the provider's retry


async def test_a_script_redis_does_not_know_is_loaded_then_run(lean):
    # As after a Redis restart (SCRIPT FLUSH would do it too, but this Redis is shared).
    source = f"return '{uuid.uuid4().hex}'"
    assert await _Script(lean, source)([], []) == source[8:-1]
