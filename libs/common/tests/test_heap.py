import gc
import weakref
from collections.abc import Iterator

import pytest

from common import heap
from common.settings import ServiceSettings


@pytest.fixture
def collector() -> Iterator[None]:
    """Put the process's collector back as it was (other tests share it)."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_settling_freezes_the_start_up_heap_and_raises_the_young_threshold(collector: None) -> None:
    survivor = {"lives": "as long as the process"}
    gc.unfreeze()
    _, middle, old = gc.get_threshold()
    heap.settle(12_345)
    assert gc.get_threshold() == (12_345, middle, old)
    assert gc.get_freeze_count() > 0
    assert not any(obj is survivor for obj in gc.get_objects())  # out of the collector's sight
    assert survivor["lives"]


class Node:
    other: object


def test_cycles_are_still_collected_after_settling(collector: None) -> None:
    heap.settle(100)  # counts from zero: the class is defined above, so few allocations come first
    collected: list[str] = []
    a, b = Node(), Node()
    a.other, b.other = b, a
    weakref.finalize(a, collected.append, "a")
    del a, b
    kept: list[list[int]] = [[] for _ in range(300)]  # past the threshold (not the default 700)
    assert collected == ["a"]
    assert len(kept) == 300


def test_zero_leaves_cpythons_collector_alone(collector: None) -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    heap.settle(0)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_service_process_settles_once_when_started(collector: None) -> None:
    gc.unfreeze()
    before = gc.get_threshold()
    heap.settle_if_armed()  # an app started in this (test) process: nothing armed, nothing done
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0

    heap.arm(ServiceSettings().gc_young_threshold)  # what common.runner.serve does
    heap.settle_if_armed()
    assert gc.get_threshold()[0] == 20_000
    assert gc.get_freeze_count() > 0

    gc.set_threshold(*before)
    heap.settle_if_armed()  # once per process
    assert gc.get_threshold() == before
