"""The garbage collector of a long-running service, set once its start-up is done.

CPython's defaults suit short scripts: a young collection every 700 net allocations, and now and
then a full collection that walks every object the process holds, with the event loop stopped
(ingress holds ~100k after start-up: 30–60 ms a time). Under saturation (bench/ingress.py) that
cost ingress ~27 µs of CPU per webhook and pauses of up to 62 ms; settled, ~1 µs and under 10 ms.

Settling is one full collection, then ``gc.freeze()``: what survives start-up (modules, schemas,
clients, the app) lives as long as the process, so the collector stops walking it. The young
generation's threshold is raised too: a request's short-lived objects are freed by reference
counting long before the collector would look at them. Reference cycles are still collected.

Only a service process settles: ``common.runner.serve`` arms it and the service's lifespan settles
once start-up is done. An app started inside another process (a test) leaves that process's
collector alone: what it freezes is never freed.
"""

from __future__ import annotations

import gc

_armed_threshold = 0


def arm(young_threshold: int) -> None:
    """This process is a service: settle its heap once it has started (0: never)."""
    global _armed_threshold
    _armed_threshold = young_threshold


def settle_if_armed() -> None:
    """Settle once, if this process was armed (called when start-up is done)."""
    global _armed_threshold
    threshold, _armed_threshold = _armed_threshold, 0
    settle(threshold)


def settle(young_threshold: int) -> None:
    """Freeze what start-up left and collect the young generation every ``young_threshold`` net
    allocations (0: leave CPython's defaults alone)."""
    if young_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
