"""`make bench`: the whole system under an open-loop load of simulated WhatsApp users, then the
same load on the skeleton (our architecture's I/O, no logic) and on a bare relay, in one run.

Each user runs the pt-BR script (greeting, two questions, a registration with one correction,
"minha inscrição") through signed Meta webhooks and waits for every answer before the next line.
The offered rate is ramped until the pipeline saturates; then a steady stage runs at half the
saturated rate. Prints, and writes bench/results/load-<timestamp>.json: sustained messages/s,
webhook → reply latency p50/p95/p99, CPU per message per service, registrations, lost /
duplicated / out-of-order replies, Redis bytes per live conversation, and our throughput as a
ratio of the relay's and of the skeleton's.

Usage: python bench/load.py [--users 2000] [--stage-seconds 8] [--no-relay] [--no-skeleton]
       [--steady RATE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop

from devkit import infra
from devkit.harness.accounting import account_emails, account_events, account_messages, account_registrations
from devkit.harness.chaos import SETTLE_TIMEOUT_S, settle
from devkit.harness.compare import PIPELINES, same_rate, same_rate_lines
from devkit.harness.events import registration_events
from devkit.harness.graph import LoadGraph
from devkit.harness.ramp import SATURATED_BELOW, ramp, stage
from devkit.harness.resources import INFRA, CpuMeter, other_pytest_runs, redis_memory_by_family
from devkit.harness.script import SCRIPT, Persona, personas
from devkit.harness.system import SystemConfig, launch, serve
from devkit.harness.users import Users
from devkit.processes import Spec, Supervisor

RESULTS = Path(__file__).parent / "results"
RELAY_SECRET = "relay-secret"


@dataclass
class Target:
    name: str
    graph: LoadGraph
    ingress_urls: list[str]
    secret: str
    processes: dict[str, list[int]]  # group name -> pids
    database_url: str | None = None
    redis_url: str | None = None
    amqp_url: str | None = None
    mail_recipients: Callable[[], list[str]] | None = None  # who the SMTP stand-in got mail for


@asynccontextmanager
async def congress(args: argparse.Namespace) -> AsyncIterator[Target]:
    env = dict(item.split("=", 1) for item in args.env)
    config = SystemConfig(
        replicas={"conversation": args.conversation_replicas}, redis_db=args.redis_db, env=env
    )
    async with launch(config) as system:
        groups: dict[str, list[int]] = {}
        for child in system.supervisor.children:
            groups.setdefault(child.spec.name.split("-")[0], []).append(child.process.pid)
        yield Target("congress-bot", system.graph, system.ingress_urls, system.app_secret, groups,
                     system.database_url, system.redis_url, system.amqp_url,
                     lambda: [r for mail in system.smtp.mails for r in mail.recipients])  # fmt: skip


@asynccontextmanager
async def relay() -> AsyncIterator[Target]:
    script = str(Path(__file__).parent / "bare_relay.py")
    with infra.rabbitmq_vhost("congress-relay") as amqp_url:
        async with relay_processes(
            "bare relay",
            lambda port, graph_url: [
                Spec("relay-http", [sys.executable, script, "http", str(port), amqp_url, RELAY_SECRET],
                     ready_url=f"http://127.0.0.1:{port}/readyz"),
                Spec("relay-hop", [sys.executable, script, "hop", amqp_url]),
                Spec("relay-out", [sys.executable, script, "out", amqp_url, graph_url]),
            ],
        ) as target:  # fmt: skip
            yield target


@asynccontextmanager
async def skeleton(redis_db: int) -> AsyncIterator[Target]:
    script = str(Path(__file__).parent / "skeleton_relay.py")
    redis_url = infra.redis_database(redis_db)
    with (
        infra.rabbitmq_vhost("congress-skeleton") as amqp_url,
        infra.migrated_database("congress_skeleton", "notifier") as database_url,
    ):
        dsn = database_url.replace("+asyncpg", "")
        async with relay_processes(
            "skeleton",
            lambda port, graph_url: [
                Spec("skeleton-http",
                     [sys.executable, script, "http", str(port), amqp_url, RELAY_SECRET, redis_url],
                     ready_url=f"http://127.0.0.1:{port}/readyz"),
                Spec("skeleton-hop", [sys.executable, script, "hop", amqp_url, redis_url]),
                Spec("skeleton-registry", [sys.executable, script, "registry", amqp_url, dsn]),
                Spec("skeleton-out", [sys.executable, script, "out", amqp_url, graph_url, redis_url, dsn]),
            ],
        ) as target:  # fmt: skip
            yield target


@asynccontextmanager
async def relay_processes(name: str, specs: Callable[[int, str], list[Spec]]) -> AsyncIterator[Target]:
    """A relay's processes (``specs`` for its HTTP port and the Graph stand-in's URL), running."""
    graph = LoadGraph()
    async with serve(graph.app()) as graph_url:
        port = infra.free_port()
        supervisor = Supervisor(stop_timeout=10)
        await supervisor.start(specs(port, graph_url))
        try:
            await supervisor.wait_ready(timeout=60)
            await asyncio.sleep(2)  # the consumers have no readiness URL
            groups = {c.spec.name: [c.process.pid] for c in supervisor.children}
            yield Target(name, graph, [f"http://127.0.0.1:{port}"], RELAY_SECRET, groups)
        except BaseException:
            for child in supervisor.children:
                print("\n".join(f"{child.spec.name} | {line}" for line in child.lines[-30:]), file=sys.stderr)
            raise
        finally:
            await supervisor.stop()


async def calibrate(target: Target, persona: Persona, run: str, check: bool) -> list[int]:
    """One user alone through the script: how many replies each line gets (and that they fit)."""
    probe = Users(target.graph, target.ingress_urls, target.secret, [], run=run)
    async with probe:
        answers = await probe.calibrate(persona)
    wrong = [
        f"step {i} {SCRIPT[i].text!r}: expected {SCRIPT[i].expect!r} in {texts}"
        for i, texts in enumerate(answers)
        if not texts or (check and SCRIPT[i].expect not in "\n".join(texts))
    ]
    if wrong:
        raise SystemExit("the script no longer fits the dialogue:\n" + "\n".join(wrong))
    return [len(texts) for texts in answers]


async def measure(target: Target, args: argparse.Namespace, run: str, count: int) -> dict[str, Any]:
    """``count`` users through ``target``: the ramp, the steady stage, the accounting."""
    people = personas(count + 1, run)
    expected = await calibrate(target, people[0], run, check=target.database_url is not None)
    print(f"\n== {target.name}: replies per line {expected} ==", flush=True)
    meter = CpuMeter({**target.processes, "harness": [os.getpid()]}, infra=tuple(INFRA))
    reserve = count // 4  # for the steady stage at half the saturated rate
    ramp_people: Iterator[Persona] = iter(people[1 : count + 1 - reserve])
    steady_people: Iterator[Persona] = iter(people[count + 1 - reserve :])
    events: list[dict[str, Any]] = []
    async with Users(target.graph, target.ingress_urls, target.secret, expected, run=run) as users:
        async with tap_events(target.amqp_url) as events:
            if args.steady:  # no ramp: the steady stage alone, at this rate
                stages = []
                half = args.steady
            else:
                stages = await ramp(users, ramp_people, meter, start=args.start_rate, factor=args.factor,
                                    seconds=args.stage_seconds)  # fmt: skip
                await users.drain(timeout=90)
                half = max(stages, key=lambda s: s.achieved).achieved / 2
            seconds = min(30.0, reserve * len(SCRIPT) / half)
            steady = await stage("half rate", users, steady_people, half, seconds, meter)
            await users.drain(timeout=90)
            await asyncio.sleep(2)  # stray duplicates would arrive now
            peak = max([*stages, steady], key=lambda s: s.achieved)
            for s in [*stages, steady]:
                s.measure(users)
                print(s.line(), flush=True)
        accounting = account_messages(users)
        if target.database_url is None:
            accounting.dialogue_diverged = []  # the relay answers "ok": there is no dialogue
        else:
            await account_registrations(accounting, users, target.database_url)
            account_events(accounting, events)
        if target.mail_recipients is not None and target.amqp_url is not None:
            print(await settle(target.amqp_url, timeout=SETTLE_TIMEOUT_S), flush=True)  # e-mails lag
            account_emails(accounting, users, target.mail_recipients(), (people[0].corrected_email,))
    print(accounting.summary(), flush=True)
    # On a shared box the achieved rate says how much CPU we got; CPU per message says what the
    # same processes would reach with the machine's cores to themselves.
    cpu_ms = sum(peak.to_json()["cpu_ms_per_message"].values())
    result: dict[str, Any] = {
        "target": target.name,
        "replies_per_line": expected,
        "sustained_msgs_per_s": round(peak.achieved, 1),
        "cpu_ms_per_message_all_processes": round(cpu_ms, 2),
        "cpu_bound_ceiling_msgs_per_s": round((os.cpu_count() or 1) * 1000 / cpu_ms, 1),
        "saturated_stage": peak.name,
        # False: the users ran out first, and the sustained rate is a floor (more --users).
        "saturated": bool(stages) and stages[-1].achieved < SATURATED_BELOW * stages[-1].offered,
        "half_rate": steady.to_json(),
        "stages": [s.to_json() for s in stages],
        "accounting": accounting.to_json(),
    }
    if target.redis_url:
        result["redis"] = await redis_report(target.redis_url)
    return result


@asynccontextmanager
async def tap_events(amqp_url: str | None) -> AsyncIterator[list[dict[str, Any]]]:
    if amqp_url is None:
        yield []
        return
    async with registration_events(amqp_url) as seen:
        yield seen


async def redis_report(redis_url: str) -> dict[str, Any]:
    families = await redis_memory_by_family(redis_url)
    sessions = families.get("conversation:session", {"keys": 0, "bytes": 0})
    total = sum(f["bytes"] for f in families.values())
    live = max(1, sessions["keys"])
    report = {
        "families": families,
        "live_conversations": sessions["keys"],
        "session_bytes_per_conversation": round(sessions["bytes"] / live),
        "all_bytes_per_conversation": round(total / live),
    }
    print(f"Redis: {sessions['keys']} live conversations, {report['session_bytes_per_conversation']} B "
          f"of session each, {report['all_bytes_per_conversation']} B with dedupe and send ledger keys",
          flush=True)  # fmt: skip
    return report


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_at_start": os.getloadavg(),
        "other_pytest_runs": len(other_pytest_runs()),
    }


async def main_async(args: argparse.Namespace) -> None:
    started = datetime.now(UTC)
    run = uuid.uuid4().hex[:6]
    report: dict[str, Any] = {"date": started.isoformat(timespec="seconds"), "machine": machine(),
                              "command": " ".join(sys.argv), "users": args.users}  # fmt: skip
    async with congress(args) as ours:
        report["congress"] = await measure(ours, args, run, args.users)
    if not args.no_relay:
        if not args.no_skeleton:
            async with skeleton(args.redis_db) as shaped:
                report["skeleton"] = await measure(shaped, args, run, args.relay_users)
        async with relay() as bare:
            report["relay"] = await measure(bare, args, run, args.relay_users)
        rate = {key: target["sustained_msgs_per_s"] for key, target in report.items() if key in PIPELINES}
        report["ratio_to_relay"] = round(rate["congress"] / rate["relay"], 2)
        if "skeleton" in rate:
            report["skeleton_ratio_to_relay"] = round(rate["skeleton"] / rate["relay"], 2)
            report["ratio_to_skeleton"] = round(rate["congress"] / rate["skeleton"], 2)
    print("\n== summary ==")
    c = report["congress"]
    print(f"congress-bot sustained {c['sustained_msgs_per_s']} msgs/s", end="")
    if "skeleton" in report:
        print(f"; skeleton {report['skeleton']['sustained_msgs_per_s']} msgs/s", end="")
    if "relay" in report:
        print(f"; bare relay {report['relay']['sustained_msgs_per_s']} msgs/s; "
              f"ratio {report['ratio_to_relay']}", end="")  # fmt: skip
    print()
    if "skeleton" in report:
        print(f"the skeleton (the relay plus our architecture's I/O, no logic) is "
              f"{report['skeleton_ratio_to_relay']} of the relay; congress-bot is "
              f"{report['ratio_to_skeleton']} of the skeleton")  # fmt: skip
    for key in PIPELINES:
        if key in report:
            t = report[key]
            print(f"{t['target']}: {t['cpu_ms_per_message_all_processes']} ms of CPU per message, saturated "
                  f"(services, broker, Redis, PostgreSQL, load generator) = at most "
                  f"{t['cpu_bound_ceiling_msgs_per_s']} msgs/s on {os.cpu_count()} idle cores")  # fmt: skip
            if t["stages"] and not t["saturated"]:
                floor = t["sustained_msgs_per_s"]
                print(f"  NOT SATURATED: its users ran out first; {floor} msgs/s is a floor (more users)")
    if "relay" in report:
        report["ceiling_ratio_to_relay"] = round(
            c["cpu_bound_ceiling_msgs_per_s"] / report["relay"]["cpu_bound_ceiling_msgs_per_s"], 2
        )
        print(f"ratio of the CPU-bound ceilings: {report['ceiling_ratio_to_relay']}")
        same = same_rate({key: report[key]["stages"] for key in PIPELINES if key in report})
        if same is not None:
            report["same_rate"] = same
            print(same_rate_lines(same))
    half = c["half_rate"]
    print(f"\nat half rate ({half['offered_msgs_per_s']}/s): webhook → reply {half['posted_to_reply_ms']} ms")
    print(f"CPU ms per message at half rate: {cpu_line_from(half)}")
    print(f"invariants: {'HOLD' if c['accounting']['holds'] else 'BROKEN'}")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"load-{started.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    print(f"written {path} ({time.perf_counter() - t0:.0f} s)")


def cpu_line_from(stage_json: dict[str, Any]) -> str:
    per: dict[str, float] = stage_json["cpu_ms_per_message"]
    return ", ".join(f"{k} {v:.2f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1]))


t0 = time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    # The relays run 2–4 × faster than we do: their ramps need more people before they saturate.
    parser.add_argument("--relay-users", type=int, default=5000, help="users for the skeleton and relay")
    parser.add_argument("--stage-seconds", type=float, default=8.0)
    parser.add_argument("--start-rate", type=float, default=40.0, help="messages/s offered first")
    parser.add_argument("--factor", type=float, default=1.3, help="offered rate growth per stage")
    parser.add_argument("--conversation-replicas", type=int, default=1)
    parser.add_argument("--redis-db", type=int, default=10)
    parser.add_argument("--no-relay", action="store_true", help="ours alone (no skeleton either)")
    parser.add_argument("--no-skeleton", action="store_true", help="no skeleton: ours and the relay")
    extra = "services' extra environment, for A/B runs (OTEL_SDK_DISABLED=true)"
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help=extra)
    parser.add_argument(
        "--steady", type=float, help="skip the ramp: one steady stage at this rate (messages/s)"
    )
    # The load generator and the stand-ins share the box with what they measure: on uvloop, as the
    # services and the bare relay are, they take less of it (both sides are driven by this process).
    uvloop.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
