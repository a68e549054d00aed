"""Who gets a place: the total, per-profile quotas, and the waitlist order."""

from registration.capacity import Capacity


def test_no_capacity_always_has_a_place():
    assert not Capacity().limited
    assert Capacity().has_place("produtor", {"produtor": 10_000})


def test_total_and_profile_quota_both_bound():
    capacity = Capacity(total=3, per_profile={"estudante": 1})
    assert capacity.has_place("estudante", {"produtor": 1})
    assert not capacity.has_place("estudante", {"estudante": 1})
    assert capacity.has_place("produtor", {"estudante": 1, "produtor": 1})
    assert not capacity.has_place("produtor", {"estudante": 1, "produtor": 2})


def test_promotions_follow_arrival_and_skip_a_full_profile():
    capacity = Capacity(total=4, per_profile={"estudante": 1})
    waitlist = [("a", "estudante"), ("b", "produtor"), ("c", "produtor"), ("d", "produtor")]
    assert capacity.promotions({"estudante": 1, "produtor": 1}, waitlist) == ["b", "c"]


def test_promotions_stop_when_the_total_is_reached():
    assert Capacity(total=2).promotions({"x": 1}, [("a", "x"), ("b", "x")]) == ["a"]
