"""Reading a webhook body: capped in size, kept as raw bytes (signatures cover the exact bytes)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, Mapping
from typing import Any

from fastapi import Request
from starlette.requests import ClientDisconnect
from starlette.types import Receive

from ingress.errors import MalformedPayload, PayloadTooLarge


async def read_body(request: Request, limit: int) -> bytes:
    return await _capped(request.headers, request.stream(), limit)


async def read_asgi_body(headers: Mapping[str, str], receive: Receive, limit: int) -> bytes:
    """The same, straight from the ASGI ``receive`` channel (for a hot route)."""
    return await _capped(headers, _asgi_chunks(receive), limit)


async def _asgi_chunks(receive: Receive) -> AsyncIterable[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def _capped(headers: Mapping[str, str], chunks: AsyncIterable[bytes], limit: int) -> bytes:
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body over {limit} bytes")
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body over {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedPayload(f"body is not valid JSON: {exc}") from exc
