"""Open-loop stages: offer a message rate for a while, measure what came back.

The offered rate is in messages/s; users arrive at rate / script length per second. A stage's
achieved rate is the inbound messages whose first reply reached the stand-in inside the stage's
window. The ramp raises the offer until the achieved rate falls clearly behind (saturation).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from devkit.harness.resources import CpuMeter
from devkit.harness.script import Persona
from devkit.harness.users import Users

SATURATED_BELOW = 0.85  # achieved / offered under this: the pipeline no longer keeps up


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Stage:
    name: str
    offered: float  # messages/s
    begin: float
    end: float
    users: int
    answered: int
    cpu_s: dict[str, float]
    latency: dict[str, Any] = field(default_factory=dict)  # filled by ``measure`` after the drain

    @property
    def seconds(self) -> float:
        return self.end - self.begin

    @property
    def achieved(self) -> float:
        return self.answered / self.seconds

    def measure(self, users: Users) -> None:
        """Latencies of the messages posted in this stage, once they had time to be answered."""
        turns = [t for r in users.runs for t in r.turns if self.begin <= t.posted_at < self.end]
        posted = [(t.first_reply_at - t.posted_at) * 1000 for t in turns if t.first_reply_at]
        accepted = [
            (t.first_reply_at - t.accepted_at) * 1000 for t in turns if t.first_reply_at and t.accepted_at
        ]
        self.latency = {
            "messages": len(turns),
            "unanswered": len(turns) - len(posted),
            "posted_to_reply_ms": {f"p{p}": round(percentile(posted, p), 1) for p in (50, 95, 99)},
            "accepted_to_reply_ms": {f"p{p}": round(percentile(accepted, p), 1) for p in (50, 95, 99)},
        }

    def line(self) -> str:
        lat = self.latency.get("posted_to_reply_ms") or {}
        return (
            f"{self.name:>10}: offered {self.offered:6.0f}/s achieved {self.achieved:6.0f}/s "
            f"({self.users} users) | webhook → reply p50 {lat.get('p50', '?')} p95 {lat.get('p95', '?')} "
            f"p99 {lat.get('p99', '?')} ms"
        )

    def to_json(self) -> dict[str, Any]:
        per_message = (
            {k: round(v / self.answered * 1000, 3) for k, v in self.cpu_s.items()} if self.answered else {}
        )
        return {
            "name": self.name,
            "offered_msgs_per_s": round(self.offered, 1),
            "achieved_msgs_per_s": round(self.achieved, 1),
            "seconds": round(self.seconds, 2),
            "users": self.users,
            "answered": self.answered,
            "cpu_s": {k: round(v, 3) for k, v in self.cpu_s.items()},
            "cpu_ms_per_message": per_message,
            **self.latency,
        }


async def stage(
    name: str, users: Users, personas: Iterator[Persona], offered: float, seconds: float, meter: CpuMeter
) -> Stage:
    script_length = len(users.expected_replies)
    before = meter.sample()
    begin = time.perf_counter()
    started = await users.arrive(personas, offered / script_length, seconds)
    end = time.perf_counter()
    cpu = CpuMeter.delta(before, meter.sample())
    answered = sum(
        1
        for r in users.runs
        for t in r.turns
        if t.first_reply_at is not None and begin <= t.first_reply_at < end
    )
    return Stage(name, offered, begin, end, started, answered, cpu)


async def ramp(
    users: Users,
    personas: Iterator[Persona],
    meter: CpuMeter,
    *,
    start: float,
    factor: float,
    seconds: float,
    echo: bool = True,
) -> list[Stage]:
    """Raise the offered rate stage by stage until saturation (or the users run out)."""
    stages: list[Stage] = []
    offered = start
    while True:
        result = await stage(f"ramp {len(stages) + 1}", users, personas, offered, seconds, meter)
        stages.append(result)
        if echo:
            print(f"{result.name:>10}: offered {offered:6.0f}/s achieved {result.achieved:6.0f}/s, "
                  f"{users.live} users live", flush=True)  # fmt: skip
        out_of_users = result.users < 0.9 * seconds * offered / len(users.expected_replies)
        if result.achieved < SATURATED_BELOW * offered or out_of_users:
            return stages
        offered *= factor
