"""Re-encrypt CPFs under the active key, online: small batches, each its own transaction, rows
locked with SKIP LOCKED so registrations go on meanwhile and two runs never fight over a row."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.logging import get_logger
from registration.cpf_vault import CpfVault, Sealed
from registration.models import Participant

log = get_logger(__name__)

ERASED_KEY_ID = "erased"  # erasure leaves no ciphertext behind


async def reencrypt_cpfs(
    sessions: async_sessionmaker[AsyncSession], vault: CpfVault, *, batch_size: int = 500
) -> int:
    """Rows moved to the active key; returns when none is left under an older key."""
    moved = 0
    while True:
        async with sessions() as db, db.begin():
            rows = (
                await db.scalars(
                    select(Participant)
                    .where(
                        Participant.cpf_key_id != vault.active_key_id,
                        Participant.cpf_key_id != ERASED_KEY_ID,
                    )
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                sealed = vault.seal(vault.open(Sealed(row.cpf_key_id, row.cpf_ciphertext)))
                row.cpf_ciphertext, row.cpf_key_id = sealed.ciphertext, sealed.key_id
        moved += len(rows)
        if rows:
            log.info("cpf.reencrypted", rows=len(rows), total=moved, key_id=vault.active_key_id)
        if len(rows) < batch_size:
            return moved


async def rows_per_key(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """How many CPFs each key encrypts (drop a key from the ring once it shows 0)."""
    async with sessions() as db:
        result = await db.execute(
            select(Participant.cpf_key_id, func.count()).group_by(Participant.cpf_key_id)
        )
        return {key: int(count) for key, count in result.all()}
