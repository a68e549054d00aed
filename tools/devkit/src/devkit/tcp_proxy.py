"""A TCP proxy for fault tests: put it between a service and RabbitMQ, PostgreSQL or Redis.

Toxiproxy is not packaged for this machine, and stopping the machine's shared servers would break
every other test run on it; a proxy in front of them breaks only the connections that go through
it. ``down()`` aborts every live connection (the peer sees a reset, as when a server dies) and
closes the listener (new connections are refused); ``up()`` listens again on the same port.
``latency_s`` delays each chunk in both directions.

    async with TcpProxy("127.0.0.1", 5432) as proxy:
        url = proxy.url("postgresql+asyncpg://postgres@127.0.0.1:5432/db")  # same URL, proxy's port
        await proxy.down(); ...; await proxy.up()
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

_CHUNK = 64 * 1024


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int, *, latency_s: float = 0.0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.latency_s = latency_s
        self.port = 0
        self.connections = 0  # accepted so far (a reconnect after a cut shows here)
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> TcpProxy:
        await self.up()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.down()

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def url(self, url: str) -> str:
        """``url`` with its host and port replaced by the proxy's (user, path and query kept)."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@127.0.0.1:{self.port}" if userinfo else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    async def up(self) -> None:
        """Listen (again, on the same port once one was chosen)."""
        if self._server is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self._server = await asyncio.start_server(self._accept, sock=sock)
        self.port = sock.getsockname()[1]

    async def down(self) -> None:
        """Refuse new connections and reset every live one."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            _abort(writer)
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def down_for(self, seconds: float) -> None:
        await self.down()
        try:
            await asyncio.sleep(seconds)
        finally:
            await self.up()

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            server_r, server_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            _abort(client_w)
            return
        self._writers |= {client_w, server_w}
        pipes = {
            asyncio.create_task(self._pipe(client_r, server_w)),
            asyncio.create_task(self._pipe(server_r, client_w)),
        }
        self._pipes |= pipes
        try:
            # One side closing ends both: a half-open proxied connection would hang its peer.
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            self._pipes -= pipes
            for writer in (client_w, server_w):
                self._writers.discard(writer)
                writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(_CHUNK):
                if self.latency_s:
                    await asyncio.sleep(self.latency_s)
                writer.write(data)
                await writer.drain()


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with a reset (SO_LINGER 0), as a crashed server's kernel would."""
    transport = writer.transport
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    transport.abort()
