"""Run the services as child processes: prefixed, interleaved logs; clean stop on SIGINT/SIGTERM.

Used by ``make run`` and by the end-to-end tests, so both start the system the same way.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

SERVICES = ("ingress", "conversation", "registration", "notifier")
DEFAULT_PORTS = {"ingress": 8000, "conversation": 8001, "registration": 8002, "notifier": 8003}


@dataclass
class Spec:
    name: str
    argv: Sequence[str]
    env: dict[str, str] = field(default_factory=dict)
    ready_url: str | None = None  # polled until it answers 200


@dataclass
class Child:
    spec: Spec
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    pump: asyncio.Task[None] | None = None


def service_spec(name: str, port: int, env: dict[str, str] | None = None) -> Spec:
    """A service started through its console script, listening on ``port``."""
    bin_dir = os.path.dirname(sys.executable)
    return Spec(
        name=name,
        argv=[os.path.join(bin_dir, f"congress-{name}")],
        env={**(env or {}), "PORT": str(port)},
        ready_url=f"http://127.0.0.1:{port}/readyz",
    )


class Supervisor:
    def __init__(self, echo: Callable[[str], None] | None = None, stop_timeout: float = 30.0) -> None:
        self.children: list[Child] = []
        self._echo = echo
        self._stop_timeout = stop_timeout
        self._width = 12

    async def start(self, specs: Sequence[Spec]) -> None:
        self._width = max([self._width, *(len(s.name) for s in specs)])
        for spec in specs:
            process = await asyncio.create_subprocess_exec(
                *spec.argv,
                env={**os.environ, **spec.env},
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us only; we stop children in order
                preexec_fn=_die_with_parent,
            )
            child = Child(spec, process)
            child.pump = asyncio.create_task(self._pump(child))
            self.children.append(child)

    async def _pump(self, child: Child) -> None:
        assert child.process.stdout is not None
        prefix = f"{child.spec.name:<{self._width}} | "
        async for raw in child.process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            child.lines.append(line)
            if self._echo is not None:
                self._echo(prefix + line)

    async def wait_ready(self, timeout: float, names: Sequence[str] | None = None) -> None:
        """Poll the readiness URLs (of ``names``, or all); raise if a child exits or time runs out."""
        deadline = time.monotonic() + timeout
        pending = [c for c in self.children if c.spec.ready_url and (names is None or c.spec.name in names)]
        while pending:
            for child in list(pending):
                if child.process.returncode is not None:
                    raise RuntimeError(f"{child.spec.name} exited with {child.process.returncode}")
                if await asyncio.to_thread(_answers_200, child.spec.ready_url or ""):
                    pending.remove(child)
            if time.monotonic() > deadline:
                names = ", ".join(c.spec.name for c in pending)
                raise TimeoutError(f"not ready after {timeout}s: {names}")
            if pending:
                await asyncio.sleep(0.1)

    async def wait_any_exit(self) -> Child:
        waits = {asyncio.ensure_future(c.process.wait()): c for c in self.children}
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for future in waits:
            if future not in done:
                future.cancel()
        return waits[next(iter(done))]

    async def stop(self) -> dict[str, int]:
        """SIGTERM every child (graceful), SIGKILL whoever outlives the timeout."""
        for child in self.children:
            if child.process.returncode is None:
                child.process.send_signal(signal.SIGTERM)
        codes: dict[str, int] = {}
        for child in self.children:
            try:
                codes[child.spec.name] = await asyncio.wait_for(child.process.wait(), self._stop_timeout)
            except TimeoutError:
                child.process.kill()
                codes[child.spec.name] = await child.process.wait()
            if child.pump is not None:
                await child.pump
        return codes

    async def terminate(self, name: str, sig: signal.Signals = signal.SIGTERM) -> int:
        """Signal one child (SIGTERM: graceful; SIGKILL: a crash) and wait for it to exit."""
        child = next(c for c in self.children if c.spec.name == name)
        child.process.send_signal(sig)
        try:
            return await asyncio.wait_for(child.process.wait(), self._stop_timeout)
        except TimeoutError:
            child.process.kill()
            return await child.process.wait()

    def logs(self, name: str) -> list[str]:
        return next(c.lines for c in self.children if c.spec.name == name)


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if this supervisor dies, so nothing is left orphaned."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


def _answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False
