"""``congress-dev``: run the whole system locally, or send it a signed sample message."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import urllib.error
import urllib.request
import uuid

from dotenv import dotenv_values

from devkit import graph_standin, samples
from devkit.processes import DEFAULT_PORTS, SERVICES, Spec, Supervisor, service_spec

STANDIN_PORT = 8099


def _setting(name: str, default: str) -> str:
    return os.environ.get(name) or dotenv_values(".env").get(name) or default


async def run_all() -> int:
    env: dict[str, str] = {}
    specs: list[Spec] = []
    if not _setting("META_GRAPH_URL", ""):
        # No real Graph API configured: replies go to a local stand-in that prints them.
        env["META_GRAPH_URL"] = f"http://127.0.0.1:{STANDIN_PORT}"
        specs.append(
            Spec("graph-standin", [sys.executable, "-m", "devkit", "graph-standin", str(STANDIN_PORT)])
        )
    ports = {name: int(_setting(f"{name.upper()}_PORT", str(port))) for name, port in DEFAULT_PORTS.items()}
    specs += [service_spec(name, ports[name], env) for name in SERVICES]
    supervisor = Supervisor(echo=_print)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await supervisor.start(specs)
    exited = asyncio.ensure_future(supervisor.wait_any_exit())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait_for(supervisor.wait_ready(timeout=60), timeout=61)
    except (TimeoutError, RuntimeError) as exc:
        print(f"\n✗ the system did not start: {exc}", flush=True)
        await supervisor.stop()
        return 1
    print(_banner(ports["ingress"], env.get("META_GRAPH_URL")), flush=True)
    done, _ = await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if exited in done:
        child = exited.result()
        print(f"\n✗ {child.spec.name} exited ({child.process.returncode}); stopping the rest", flush=True)
        code = 1
    else:
        print("\nStopping all services…", flush=True)
    codes = await supervisor.stop()
    # uvicorn re-raises SIGTERM after its graceful shutdown, so -SIGTERM is a clean stop too.
    unclean = {name: rc for name, rc in codes.items() if rc not in (0, -signal.SIGTERM)}
    print(f"Stopped{f' (unclean: {unclean})' if unclean else ' cleanly'}.", flush=True)
    return code


def _print(line: str) -> None:
    # If our reader (a pipe, `| tee`) went away, keep going: the children must still be stopped.
    with contextlib.suppress(BrokenPipeError):
        print(line, flush=True)


def _banner(ingress_port: int, standin_url: str | None) -> str:
    where = "META_GRAPH_URL"
    if standin_url:
        where = f"a local Graph API stand-in ({standin_url}) that prints them here"
    return f"""
✓ congress-bot is running. Ingress listens on http://127.0.0.1:{ingress_port}
  Meta webhook:  http://127.0.0.1:{ingress_port}/webhooks/meta   (API docs: /docs)
  Send it a signed WhatsApp message:   make send TEXT="oi"
  Replies go to {where}.
  Ctrl-C stops everything.
"""


def send(text: str, url: str, secret: str) -> int:
    body = samples.meta_text(text, wamid=f"wamid.dev.{uuid.uuid4().hex}")
    request = urllib.request.Request(
        url,
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": samples.meta_signature(secret, body),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        print(response.status, response.read().decode())
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="congress-dev")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run every service (and a Graph API stand-in) until Ctrl-C")
    standin = sub.add_parser("graph-standin", help="run only the Graph API stand-in")
    standin.add_argument("port", type=int, nargs="?", default=STANDIN_PORT)
    snd = sub.add_parser("send", help="post a signed Meta text-message webhook to ingress")
    snd.add_argument("text", nargs="?", default="oi")
    snd.add_argument("--url", default=f"http://127.0.0.1:{DEFAULT_PORTS['ingress']}/webhooks/meta")
    args = parser.parse_args()
    if args.command == "run":
        sys.exit(asyncio.run(run_all()))
    elif args.command == "graph-standin":
        graph_standin.main(args.port)
    else:
        sys.exit(send(args.text, args.url, _setting("META_APP_SECRET", "dev-app-secret")))


if __name__ == "__main__":
    main()
