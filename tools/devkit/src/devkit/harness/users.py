"""Simulated WhatsApp users: signed Meta webhooks in, the bot's replies waited for at the stand-in.

Arrivals of new users follow an open-loop rate (they come whether or not the system keeps up);
each user's next message is posted only after the bot answered the previous one, as a person
waits for the reply. Every inbound is a ``Turn``; a reply is tied to its turn by the command id
the notifier passes as ``biz_opaque_callback_data`` (conversation derives it from the inbound
message id and the reply's index), so the accounting needs no guessing.

A webhook answered with anything but 200 (or not at all) is retried like Meta does, with backoff,
for ``retry_for_s``. In ``duplicates`` mode every webhook is delivered twice: most copies at once,
every third one late, after the user's next message (Meta re-delivers out of order).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import aiohttp

from common.contracts import SendWhatsAppMessage
from devkit import samples
from devkit.harness.graph import LoadGraph, Send
from devkit.harness.script import SCRIPT, Persona

EXTRA_REPLY_SLOTS = 3  # replies past the expected count are recognised (and counted as extra)


@dataclass
class Turn:
    user: int
    step: int
    wamid: str
    expected: int
    posted_at: float = 0.0
    accepted_at: float | None = None
    statuses: list[int] = field(default_factory=list)  # every HTTP answer (0: no answer)
    replies: list[tuple[int, Send]] = field(default_factory=list)  # (index, send)
    timed_out: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)  # every expected reply is in
    answered: asyncio.Event = field(default_factory=asyncio.Event)  # a first reply is in

    @property
    def first_reply_at(self) -> float | None:
        return min((s.arrived_at for _, s in self.replies), default=None)


@dataclass
class UserRun:
    persona: Persona
    turns: list[Turn] = field(default_factory=list)
    started_at: float = 0.0
    finished_at: float | None = None
    abandoned_at_step: int | None = None


class Users:
    def __init__(
        self,
        graph: LoadGraph,
        ingress_urls: Sequence[str],
        app_secret: str,
        expected_replies: Sequence[int],
        *,
        run: str,
        turn_timeout_s: float = 30.0,
        retry_for_s: float = 120.0,
        duplicates: bool = False,
    ) -> None:
        self.graph = graph
        self.expected_replies = list(expected_replies)
        self.run = run
        self.turn_timeout_s = turn_timeout_s
        self.retry_for_s = retry_for_s
        self.duplicates = duplicates
        self.runs: list[UserRun] = []
        self.by_command: dict[str, tuple[Turn, int]] = {}
        self.unknown_sends: list[Send] = []
        self._urls = itertools.cycle([f"{u}/webhooks/meta" for u in ingress_urls])
        self._secret = app_secret
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        graph.on_send = self._on_send

    async def __aenter__(self) -> Users:
        connector = aiohttp.TCPConnector(limit=2000)
        self._http = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def __aexit__(self, *_: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    def _on_send(self, send: Send) -> None:
        hit = self.by_command.get(send.command_id)
        if hit is None:
            self.unknown_sends.append(send)
            return
        turn, index = hit
        turn.replies.append((index, send))
        turn.answered.set()
        if len({i for i, _ in turn.replies}) >= turn.expected:
            turn.done.set()

    def _turn(self, user: UserRun, step: int, expected: int) -> Turn:
        wamid = f"wamid.harness.{self.run}.{user.persona.number}.{step}"
        turn = Turn(user.persona.number, step, wamid, expected)
        for index in range(expected + EXTRA_REPLY_SLOTS):
            self.by_command[str(SendWhatsAppMessage.id_for_reply(wamid, index))] = (turn, index)
        user.turns.append(turn)
        return turn

    async def post(self, body: bytes, turn: Turn | None = None) -> bool:
        """Deliver one webhook until ingress answers 200 (Meta retries for days; we for a while)."""
        assert self._http is not None
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": samples.meta_signature(self._secret, body),
        }
        deadline = time.monotonic() + self.retry_for_s
        backoff = 0.2
        while True:
            try:
                async with self._http.post(next(self._urls), data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            if turn is not None:
                turn.statuses.append(status)
            if status == 200:
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def converse(self, persona: Persona) -> None:
        """One person through the whole script, waiting for each answer."""
        user = UserRun(persona, started_at=time.perf_counter())
        self.runs.append(user)
        late: list[bytes] = []
        for step, expected in enumerate(self.expected_replies):
            turn = self._turn(user, step, expected)
            body = persona.body(step, turn.wamid)
            turn.posted_at = time.perf_counter()
            if self.duplicates and step % 3 != 2:
                accepted, _ = await asyncio.gather(self.post(body, turn), self.post(body))
            else:
                accepted = await self.post(body, turn)
            turn.accepted_at = time.perf_counter() if accepted else None
            for copy in late:  # the previous message's late re-delivery, after this one
                await self.post(copy)
            late = [body] if self.duplicates and step % 3 == 2 else []
            if not accepted:
                user.abandoned_at_step = step
                return
            try:
                await asyncio.wait_for(turn.done.wait(), self.turn_timeout_s)
            except TimeoutError:
                turn.timed_out = True
                user.abandoned_at_step = step
                return
        for copy in late:
            await self.post(copy)
        user.finished_at = time.perf_counter()

    def start(self, persona: Persona) -> None:
        task = asyncio.create_task(self.converse(persona))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def arrive(self, personas: Iterator[Persona], users_per_s: float, seconds: float) -> int:
        """Open loop: start a new user every 1/users_per_s for ``seconds``; return how many."""
        started = 0
        begin = time.perf_counter()
        while (elapsed := time.perf_counter() - begin) < seconds:
            due = int(elapsed * users_per_s) + 1
            while started < due:
                persona = next(personas, None)
                if persona is None:
                    return started
                self.start(persona)
                started += 1
            await asyncio.sleep(max(0.0, started / users_per_s - (time.perf_counter() - begin)))
        return started

    @property
    def live(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float) -> None:
        """Wait for every user to finish (or give up)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def calibrate(self, persona: Persona, quiet_s: float = 0.6) -> list[list[str]]:
        """One user alone, waiting until the bot is quiet after each message: the replies per step."""
        user = UserRun(persona, started_at=time.perf_counter())
        answers: list[list[str]] = []
        for step in range(len(SCRIPT)):
            turn = self._turn(user, step, expected=10)
            turn.posted_at = time.perf_counter()
            if not await self.post(persona.body(step, turn.wamid), turn):
                raise RuntimeError(f"calibration: step {step} was never accepted")
            await asyncio.wait_for(turn.answered.wait(), self.turn_timeout_s)
            seen = -1
            while seen != len(turn.replies):
                seen = len(turn.replies)
                await asyncio.sleep(quiet_s)
            answers.append([s.text for _, s in sorted(turn.replies, key=lambda r: r[0])])
        return answers
