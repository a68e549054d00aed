"""The same-rate comparison picks the highest stage both kept up with and lines the hops up."""

from __future__ import annotations

from typing import Any

from devkit.harness.compare import same_rate, same_rate_lines


def stage(name: str, offered: float, achieved: float, **cpu: float) -> dict[str, Any]:
    return {
        "name": name,
        "offered_msgs_per_s": offered,
        "achieved_msgs_per_s": achieved,
        "cpu_ms_per_message": cpu,
    }


def test_the_highest_stage_both_kept_up_with_is_compared() -> None:
    ours = [
        stage("ramp 1", 40, 40, ingress=2.0, rabbitmq=3.0),
        stage("ramp 2", 52, 52, ingress=1.5, rabbitmq=2.5),
        stage("ramp 3", 68, 60, ingress=1.2, rabbitmq=2.0),  # saturated: not this one
    ]
    relay = [
        stage("ramp 1", 40, 40, **{"relay-http": 1.0, "rabbitmq": 1.5}),
        stage("ramp 2", 52, 51, **{"relay-http": 0.5, "rabbitmq": 1.0}),
        stage("ramp 3", 68, 68, **{"relay-http": 0.4, "rabbitmq": 0.9}),
    ]
    same = same_rate(ours, relay)
    assert same is not None
    assert (same["stage"], same["congress_total"], same["relay_total"]) == ("ramp 2", 4.0, 1.5)
    lines = same_rate_lines(same)
    assert "HTTP in: ingress 1.50 | relay-http 0.50" in lines
    assert "participants: registration 0.00 | - 0.00" in lines
    assert "4.00 | 1.50 (x2.67)" in lines


def test_no_common_unsaturated_stage_gives_none() -> None:
    assert same_rate([stage("ramp 1", 40, 30)], [stage("ramp 1", 40, 40)]) is None
    assert same_rate([stage("ramp 1", 40, 40)], []) is None
