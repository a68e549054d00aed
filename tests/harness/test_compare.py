"""The same-rate comparison picks the highest stage all pipelines kept up with and lines the hops up."""

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


OURS = [
    stage("ramp 1", 40, 40, ingress=2.0, rabbitmq=3.0),
    stage("ramp 2", 52, 52, ingress=1.5, rabbitmq=2.5),
    stage("ramp 3", 68, 60, ingress=1.2, rabbitmq=2.0),  # saturated: not this one
]
RELAY = [
    stage("ramp 1", 40, 40, **{"relay-http": 1.0, "rabbitmq": 1.5}),
    stage("ramp 2", 52, 51, **{"relay-http": 0.5, "rabbitmq": 1.0}),
    stage("ramp 3", 68, 68, **{"relay-http": 0.4, "rabbitmq": 0.9}),
]


def test_the_highest_stage_both_kept_up_with_is_compared() -> None:
    same = same_rate({"congress": OURS, "relay": RELAY})
    assert same is not None
    assert (same["stage"], same["congress_total"], same["relay_total"]) == ("ramp 2", 4.0, 1.5)
    lines = same_rate_lines(same)
    assert "HTTP in: ingress 1.50 | relay-http 0.50" in lines
    assert "participants: registration 0.00 | - 0.00" in lines
    assert "4.00 | 1.50 (congress-bot x2.67 the relay's)" in lines


def test_the_skeleton_sits_between_and_its_stall_moves_the_stage() -> None:
    skeleton = [
        stage("ramp 1", 40, 40, **{"skeleton-http": 1.5, "skeleton-registry": 0.2, "rabbitmq": 2.0}),
        stage("ramp 2", 52, 45, **{"skeleton-http": 1.0, "rabbitmq": 1.5}),  # saturated
    ]
    same = same_rate({"congress": OURS, "skeleton": skeleton, "relay": RELAY})
    assert same is not None
    assert (same["stage"], same["skeleton_total"]) == ("ramp 1", 3.7)
    lines = same_rate_lines(same)
    assert "HTTP in: ingress 2.00 | skeleton-http 1.50 | relay-http 1.00" in lines
    assert "participants: registration 0.00 | skeleton-registry 0.20 | - 0.00" in lines
    assert "5.00 | 3.70 | 2.50 (congress-bot x2.00, skeleton x1.48 the relay's)" in lines


def test_no_common_unsaturated_stage_gives_none() -> None:
    assert same_rate({"congress": [stage("ramp 1", 40, 30)], "relay": [stage("ramp 1", 40, 40)]}) is None
