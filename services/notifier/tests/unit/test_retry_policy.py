import pytest

from notifier.retry_policy import RetryPolicy, parse_delays
from notifier.retry_queues import RetryTiers, tier_name


def test_the_default_tiers_follow_seed_004_then_give_up():
    policy = RetryPolicy()
    assert [policy.next_delay(n) for n in range(1, 7)] == [5, 15, 45, 90, 90, None]
    assert policy.max_attempts == 6
    assert policy.tiers == (5, 15, 45, 90)


def test_retry_after_picks_the_shortest_tier_that_waits_long_enough():
    policy = RetryPolicy()
    assert policy.next_delay(1, retry_after_s=12) == 15
    assert policy.next_delay(1, retry_after_s=2) == 5  # never shorter than the tier
    assert policy.next_delay(2, retry_after_s=600) == 90  # beyond the longest: the longest


def test_delays_parse_and_bad_ones_are_refused():
    assert parse_delays("0.2, 1,1") == (0.2, 1.0, 1.0)
    for bad in (" ", "5,-1", "0"):
        with pytest.raises(ValueError, match="positive"):
            parse_delays(bad)


def test_tier_names_carry_the_ttl():
    assert tier_name(5) == "5s"
    assert tier_name(0.25) == "250ms"


def test_a_wait_for_a_receipt_takes_the_shortest_tier_long_enough_else_goes_round_the_longest():
    tiers = RetryTiers((2, 5, 10, 90))
    assert [tiers.at_least(s) for s in (0, 2, 3, 10, 11, 120)] == [2, 2, 5, 10, 90, 90]
