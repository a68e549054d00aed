"""Our pipeline beside the bare relay at one offered rate, hop by hop.

CPU per message falls as the rate rises (more work per wake-up, RabbitMQ's batched writes), so the
CPU-bound ceilings compare each pipeline at its own saturated rate, where the faster one is also
the cheaper per message. This compares both at the highest ramp stage both kept up with.
"""

from __future__ import annotations

from typing import Any

# Each of our processes beside the relay's process that does the same hop ("-": the relay has none).
HOPS = (
    ("HTTP in", "ingress", "relay-http"),
    ("dialogue", "conversation", "relay-hop"),
    ("sends", "notifier", "relay-out"),
    ("participants", "registration", None),
    ("broker", "rabbitmq", "rabbitmq"),
    ("sessions, dedupe", "redis", "redis"),
    ("database", "postgresql", "postgresql"),
    ("load generator", "harness", "harness"),
)
KEPT_UP = 0.97  # achieved / offered: the stage was not saturated


def same_rate(ours: list[dict[str, Any]], relay: list[dict[str, Any]]) -> dict[str, Any] | None:
    """CPU per message of both at the highest ramp stage (same name) both kept up with."""
    relay_by_name = {s["name"]: s for s in relay}
    both = [
        (o, relay_by_name[o["name"]])
        for o in ours
        if o["name"] in relay_by_name
        and all(
            s["achieved_msgs_per_s"] >= KEPT_UP * s["offered_msgs_per_s"]
            for s in (o, relay_by_name[o["name"]])
        )
    ]
    if not both:
        return None
    o, r = both[-1]
    ours_cpu, relay_cpu = o["cpu_ms_per_message"], r["cpu_ms_per_message"]
    return {
        "stage": o["name"],
        "offered_msgs_per_s": o["offered_msgs_per_s"],
        "congress_cpu_ms_per_message": ours_cpu,
        "relay_cpu_ms_per_message": relay_cpu,
        "congress_total": round(sum(ours_cpu.values()), 2),
        "relay_total": round(sum(relay_cpu.values()), 2),
    }


def same_rate_lines(same: dict[str, Any]) -> str:
    ours, relay = same["congress_cpu_ms_per_message"], same["relay_cpu_ms_per_message"]
    lines = [f"at the same rate ({same['stage']}, {same['offered_msgs_per_s']}/s, both keeping up), "
             "CPU ms per message, congress-bot | bare relay:"]  # fmt: skip
    for hop, mine, theirs in HOPS:
        mine_ms = ours.get(mine, 0.0)
        theirs_ms = relay.get(theirs, 0.0) if theirs else 0.0
        lines.append(f"  {hop:>17}: {mine} {mine_ms:.2f} | {theirs or '-'} {theirs_ms:.2f}")
    lines.append(f"  {'all processes':>17}: {same['congress_total']:.2f} | {same['relay_total']:.2f} "
                 f"(x{same['congress_total'] / same['relay_total']:.2f})")  # fmt: skip
    return "\n".join(lines)
