"""CPF key rotation, online: rows move to the new key in batches; every row still opens."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime

import pytest
from database.engine import create_engine, create_sessionmaker
from sqlalchemy import select
from validate_docbr import CPF

from common.contracts import Provider, SubmitRegistration
from registration.config import RegistrationSettings
from registration.cpf_vault import CpfVault, Sealed, parse_key_ring
from registration.key_rotation import reencrypt_cpfs, rows_per_key
from registration.models import Participant
from registration.service import Registrations

pytestmark = pytest.mark.integration


def submit(cpf: str, n: int) -> SubmitRegistration:
    return SubmitRegistration(
        event_id="evt-rotation",
        provider=Provider.META,
        conversation_key=f"meta:b:rot{n}",
        full_name="Maria da Silva",
        email=f"rot{n}@example.com",
        cpf=cpf,
        city="Rio Verde",
        uf="GO",
        profile="produtor",
        consent_version="2027-01",
        consented_at=datetime(2027, 1, 10, tzinfo=UTC),
    )


async def test_rotation_moves_every_row_to_the_active_key_and_all_still_open(database_url):
    engine = create_engine(database_url, pool_size=5)
    sessions = create_sessionmaker(engine)
    try:
        async with engine.begin() as conn:
            await conn.execute(Participant.__table__.delete())
        old = RegistrationSettings().cpf_vault()
        cpfs = CPF().generate_list(7)
        registrations = Registrations(sessions, old, "AGR")
        for n, cpf in enumerate(cpfs):
            await registrations.submit(submit(cpf, n))
        settings = RegistrationSettings()
        new_key = base64.b64encode(os.urandom(32)).decode()
        ring = parse_key_ring(f"k2:{new_key},{settings.cpf_encryption_keys.get_secret_value()}")
        hmac_key = base64.b64decode(settings.cpf_hmac_key.get_secret_value())
        rotated = CpfVault(ring, "k2", hmac_key)

        assert await reencrypt_cpfs(sessions, rotated, batch_size=3) == 7
        assert await rows_per_key(sessions) == {"k2": 7}
        async with sessions() as db:
            rows = (await db.scalars(select(Participant))).all()
        assert sorted(rotated.open(Sealed(r.cpf_key_id, r.cpf_ciphertext)) for r in rows) == sorted(cpfs)
        assert await reencrypt_cpfs(sessions, rotated) == 0  # nothing left: idempotent
    finally:
        await engine.dispose()
