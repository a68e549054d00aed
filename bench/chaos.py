"""`make chaos`: every fault scenario under steady load, one at a time, with the full accounting.

Scenarios that stop the machine's RabbitMQ, PostgreSQL or Redis run only when no other test run
shares this machine (they would break it); otherwise they are postponed and listed as such.
Prints each scenario's accounting (exactly what was lost or duplicated) and writes
bench/results/chaos-<timestamp>.json. Exits 1 when a scenario without a known gap breaks.

A scenario that breaks leaves every service's log beside the results (``--log-level INFO`` to
trace a lost message through them).
Usage: python bench/chaos.py [--users 50] [--rate 60] [--only SUBSTRING] [--force-shared]
[--log-level INFO]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devkit.harness import chaos
from devkit.harness.resources import other_pytest_runs

RESULTS = Path(__file__).parent / "results"


async def main_async(args: argparse.Namespace) -> int:
    started = datetime.now(UTC)
    report: dict[str, Any] = {"date": started.isoformat(timespec="seconds"), "command": " ".join(sys.argv),
                              "users": args.users, "rate": args.rate, "scenarios": []}  # fmt: skip
    unexpected = 0
    for scenario in chaos.SCENARIOS:
        if args.only and args.only.lower() not in scenario.name.lower():
            continue
        print(f"\n== {scenario.name} ==", flush=True)
        others = other_pytest_runs()
        if scenario.shared_infra and others and not args.force_shared:
            print(f"postponed: {len(others)} other test run(s) share this machine's servers", flush=True)
            report["scenarios"].append({"scenario": scenario.name, "postponed": True})
            continue
        logs = RESULTS / f"chaos-{started.strftime('%Y%m%dT%H%M%S')}-logs" / scenario.name.replace(" ", "-")
        outcome = await chaos.run(
            scenario,
            users=args.users,
            rate=args.rate,
            redis_db=args.redis_db,
            log_level=args.log_level,
            keep_logs=logs,
        )
        print(outcome.accounting.summary(), flush=True)
        for note in outcome.notes:
            print(f"  note: {note}")
        if not outcome.holds:
            explained = scenario.explains(outcome)
            print(f"  known gap: {scenario.known_gap}" if explained else "  UNEXPECTED", flush=True)
            unexpected += not explained
        report["scenarios"].append({**outcome.to_json(), "known_gap": scenario.known_gap})
    for name, reason in chaos.NOT_YET.items():
        print(f"\n== {name} ==\nnot run: {reason}")
        report["scenarios"].append({"scenario": name, "not_run": reason})
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"chaos-{started.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nwritten {path}")
    return 1 if unexpected else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rate", type=float, default=60.0, help="messages/s offered")
    parser.add_argument("--only", help="run the scenarios whose name contains this")
    parser.add_argument("--force-shared", action="store_true", help="stop shared servers even if others test")
    parser.add_argument("--redis-db", type=int, default=10)
    parser.add_argument("--log-level", default="WARNING", help="the services' (INFO to trace a loss)")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
