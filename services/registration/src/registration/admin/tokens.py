"""Bearer tokens of the admin API. A token is 256 random bits shown once; only its SHA-256 is
stored (a slow password hash adds nothing against guessing 256 bits, and costs every request)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registration.models import AdminToken

TOKEN_PREFIX = "cgr_"  # noqa: S105 - a prefix that lets secret scanners spot leaked tokens


class Scope(StrEnum):
    READ = "read"  # list, search, statistics (CPF masked)
    EXPORT = "export"  # CSV/XLSX with the full CPF; one person's data (LGPD access request)
    WRITE = "write"  # cancel, erase


def parse_scopes(spec: str) -> list[Scope]:
    """'read,export' → [Scope.READ, Scope.EXPORT]; an unknown scope raises ValueError."""
    return sorted({Scope(part.strip()) for part in spec.split(",") if part.strip()})


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Caller:
    name: str
    scopes: frozenset[Scope]


class TokenStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def create(self, name: str, scopes: list[Scope]) -> str:
        """A new token (printed once, never stored in clear)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with self._sessions() as db, db.begin():
            db.add(AdminToken(name=name, token_sha256=digest(token), scopes=[s.value for s in scopes]))
        return token

    async def revoke(self, name: str) -> bool:
        async with self._sessions() as db, db.begin():
            result = await db.execute(
                update(AdminToken)
                .where(AdminToken.name == name, AdminToken.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def list(self) -> list[AdminToken]:
        async with self._sessions() as db:
            return list((await db.scalars(select(AdminToken).order_by(AdminToken.created_at))).all())

    async def caller(self, token: str) -> Caller | None:
        """Who holds this token (None: unknown or revoked). Compared by digest in an indexed lookup;
        the digest of a guess reveals nothing about the stored ones."""
        async with self._sessions() as db:
            found = await db.scalar(
                select(AdminToken).where(
                    AdminToken.token_sha256 == digest(token), AdminToken.revoked_at.is_(None)
                )
            )
        if found is None:
            return None
        return Caller(found.name, frozenset(Scope(s) for s in found.scopes))
