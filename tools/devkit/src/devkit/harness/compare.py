"""Our pipeline beside the skeleton and the bare relay at one offered rate, hop by hop.

CPU per message falls as the rate rises (more work per wake-up, RabbitMQ's batched writes), so the
CPU-bound ceilings compare each pipeline at its own saturated rate, where the faster one is also
the cheaper per message. This compares them at the highest ramp stage all of them kept up with.
"""

from __future__ import annotations

from typing import Any

# The pipelines, as ``load.py`` keys its report, with the names printed for them.
PIPELINES = {"congress": "congress-bot", "skeleton": "skeleton", "relay": "bare relay"}
# Each hop: the process that does it in each pipeline (absent: that pipeline has none).
HOPS: tuple[tuple[str, dict[str, str]], ...] = (
    ("HTTP in", {"congress": "ingress", "skeleton": "skeleton-http", "relay": "relay-http"}),
    ("dialogue", {"congress": "conversation", "skeleton": "skeleton-hop", "relay": "relay-hop"}),
    ("sends", {"congress": "notifier", "skeleton": "skeleton-out", "relay": "relay-out"}),
    ("participants", {"congress": "registration", "skeleton": "skeleton-registry"}),
    ("broker", dict.fromkeys(PIPELINES, "rabbitmq")),
    ("sessions, dedupe", dict.fromkeys(PIPELINES, "redis")),
    ("database", dict.fromkeys(PIPELINES, "postgresql")),
    ("load generator", dict.fromkeys(PIPELINES, "harness")),
)
KEPT_UP = 0.97  # achieved / offered: the stage was not saturated


def same_rate(stages: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """CPU per message of each pipeline (``stages``: its ramp stages) at the highest stage, by
    name, that every one of them kept up with; None when there is none."""
    by_name = [{s["name"]: s for s in pipeline} for pipeline in stages.values()]
    names = [s["name"] for s in next(iter(stages.values()), [])]
    kept_up = [
        name
        for name in names
        if all(
            name in pipeline
            and pipeline[name]["achieved_msgs_per_s"] >= KEPT_UP * pipeline[name]["offered_msgs_per_s"]
            for pipeline in by_name
        )
    ]
    if not kept_up:
        return None
    name = kept_up[-1]
    same: dict[str, Any] = {"stage": name, "offered_msgs_per_s": by_name[0][name]["offered_msgs_per_s"]}
    for key, pipeline in zip(stages, by_name, strict=True):
        cpu = pipeline[name]["cpu_ms_per_message"]
        same[f"{key}_cpu_ms_per_message"] = cpu
        same[f"{key}_total"] = round(sum(cpu.values()), 2)
    return same


def same_rate_lines(same: dict[str, Any]) -> str:
    keys = [key for key in PIPELINES if f"{key}_total" in same]
    lines = [f"at the same rate ({same['stage']}, {same['offered_msgs_per_s']}/s, all keeping up), "
             f"CPU ms per message, {' | '.join(PIPELINES[key] for key in keys)}:"]  # fmt: skip
    for hop, processes in HOPS:
        cells = []
        for key in keys:
            process = processes.get(key)
            ms = same[f"{key}_cpu_ms_per_message"].get(process, 0.0) if process else 0.0
            cells.append(f"{process or '-'} {ms:.2f}")
        lines.append(f"  {hop:>17}: {' | '.join(cells)}")
    totals = " | ".join(f"{same[f'{key}_total']:.2f}" for key in keys)
    if "relay_total" in same:
        times = ", ".join(
            f"{PIPELINES[key]} x{same[f'{key}_total'] / same['relay_total']:.2f}"
            for key in keys
            if key != "relay"
        )
        totals += f" ({times} the relay's)"
    lines.append(f"  {'all processes':>17}: {totals}")
    return "\n".join(lines)
