"""A lean Redis client for ingress's hot path: every command pipelined on one connection.

redis-py spends 55–100 µs of client CPU per command (pool checkout, a timeout per call, retries,
hooks); this client 5–7 µs (EVALSHA, 64 concurrent callers, uvloop, on this box): commands issued
in the same event-loop turn go out in one write, and replies are matched to callers in order. It
speaks just enough RESP2 for ingress (``EVALSHA``, ``SCRIPT LOAD``, ``DEL``, ``PING`` for
``/readyz``). A reply that does not come within ``timeout_s`` closes the connection and fails every
command waiting on it (their callers answer 503); the next command connects again.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Any, cast
from urllib.parse import unquote, urlsplit


class RedisReplyError(Exception):
    """Redis answered the command with an error (``NOSCRIPT …``, ``WRONGTYPE …``)."""


_INCOMPLETE = object()


def pack(args: tuple[str | int | float | bytes, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def parse(buf: bytearray, pos: int) -> tuple[Any, int]:
    """One reply from ``buf[pos:]`` and where it ends; ``_INCOMPLETE`` if it has not all arrived."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return _INCOMPLETE, pos
    kind, line, after = buf[pos], bytes(buf[pos + 1 : end]), end + 2
    if kind == 0x3A:  # ':' integer
        return int(line), after
    if kind == 0x24:  # '$' bulk string
        size = int(line)
        if size < 0:
            return None, after
        if len(buf) < after + size + 2:
            return _INCOMPLETE, pos
        return bytes(buf[after : after + size]).decode(), after + size + 2
    if kind == 0x2B:  # '+' simple string
        return line.decode(), after
    if kind == 0x2D:  # '-' error
        return RedisReplyError(line.decode()), after
    if kind == 0x2A:  # '*' array
        count = int(line)
        if count < 0:
            return None, after
        items = []
        for _ in range(count):
            item, after = parse(buf, after)
            if item is _INCOMPLETE:
                return _INCOMPLETE, pos
            items.append(item)
        return items, after
    raise ConnectionError(f"not a RESP reply: {bytes(buf[pos : pos + 20])!r}")


class _Connection(asyncio.Protocol):
    """One connection: commands written once per loop turn, replies matched in order."""

    def __init__(self, timeout_s: float) -> None:
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self._timeout_s = timeout_s
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()  # (reply, sent at)
        self._outgoing: list[bytes] = []
        self._buffer = bytearray()
        self._watchdog: asyncio.TimerHandle | None = None

    def send(self, command: bytes) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if self.lost:
            future.set_exception(ConnectionError("Redis connection lost"))
            return future
        if not self._outgoing:
            loop.call_soon(self._flush)
        self._outgoing.append(command)
        self._waiting.append((future, loop.time()))
        if self._watchdog is None:
            self._watchdog = loop.call_later(self._timeout_s / 4, self._watch)
        return future

    def _flush(self) -> None:
        data, self._outgoing = b"".join(self._outgoing), []
        if self.transport is not None and not self.lost:
            self.transport.write(data)

    def _watch(self) -> None:
        """The oldest unanswered command past the timeout: give the connection up."""
        self._watchdog = None
        if not self._waiting or self.lost:
            return
        loop = asyncio.get_running_loop()
        if loop.time() - self._waiting[0][1] > self._timeout_s:
            self.abort(TimeoutError(f"Redis did not answer within {self._timeout_s} s"))
            return
        self._watchdog = loop.call_later(self._timeout_s / 4, self._watch)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        pos = 0
        try:
            while self._waiting:
                reply, pos_after = parse(self._buffer, pos)
                if reply is _INCOMPLETE:
                    break
                pos = pos_after
                future, _ = self._waiting.popleft()
                if future.done():  # its caller was cancelled
                    continue
                if isinstance(reply, RedisReplyError):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        except (ValueError, ConnectionError) as exc:  # a byte stream we cannot follow: start afresh
            self.abort(ConnectionError(f"Redis reply not understood: {exc}"))
        del self._buffer[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail_all(ConnectionError(f"Redis connection lost: {exc!r}"))

    def abort(self, error: Exception) -> None:
        self._fail_all(error)
        if self.transport is not None:
            self.transport.abort()

    def _fail_all(self, error: Exception) -> None:
        self.lost = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        while self._waiting:
            future, _ = self._waiting.popleft()
            if not future.done():
                future.set_exception(error)


class PipelinedRedis:
    def __init__(self, url: str, *, timeout_s: float = 2.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError(f"unsupported Redis URL scheme: {parts.scheme!r}")
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 6379
        self._ssl = ssl.create_default_context() if parts.scheme == "rediss" else None
        self._setup: list[tuple[str | int, ...]] = []
        if parts.password is not None:
            password = unquote(parts.password)
            user = unquote(parts.username) if parts.username else None
            self._setup.append(("AUTH", user, password) if user else ("AUTH", password))
        db = int(parts.path.lstrip("/") or 0)
        if db:
            self._setup.append(("SELECT", db))
        self._timeout_s = timeout_s
        self._conn: _Connection | None = None
        self._connecting = asyncio.Lock()

    async def execute(self, *args: str | int | float | bytes) -> Any:
        """Send one command (in this loop turn's write) and wait for its reply."""
        conn = self._conn
        if conn is None or conn.lost:
            conn = await self._connect()
        return await conn.send(pack(args))

    async def aclose(self) -> None:
        if self._conn is not None:
            self._conn.abort(ConnectionError("Redis client closed"))
            self._conn = None

    async def _connect(self) -> _Connection:
        async with self._connecting:
            if self._conn is not None and not self._conn.lost:
                return self._conn
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(self._timeout_s):
                _, conn = await loop.create_connection(
                    lambda: _Connection(self._timeout_s), self._host, self._port, ssl=self._ssl
                )
                try:
                    for command in self._setup:
                        await conn.send(pack(command))
                except BaseException as exc:
                    conn.abort(ConnectionError(f"Redis connection set-up failed: {exc!r}"))
                    raise
            self._conn = conn
            return conn
