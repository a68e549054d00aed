"""CSV and XLSX exports of participants, streamed: rows are read from a server-side cursor in
batches, so 100,000 participants never sit in memory at once. Exports carry the full CPF (the
``export`` scope is the only way to it)."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Sequence

from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registration.cpf_vault import CpfVault
from registration.models import Participant

BATCH = 2000
COLUMNS = ("code", "status", "full_name", "email", "cpf", "phone", "city", "city_ibge_code", "uf",
           "profile", "provider", "consent_version", "consented_at", "created_at",
           "cancelled_at")  # fmt: skip
Row = tuple[object, ...]


class ParticipantExport:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], vault: CpfVault) -> None:
        self._sessions = sessions
        self._vault = vault

    def _row(self, p: Participant) -> Row:
        cpf = self._vault.open_row(p.cpf_key_id, p.cpf_ciphertext) if p.cpf_ciphertext else ""
        return (p.code, p.status, p.full_name, p.email, cpf, p.phone_e164 or "", p.city,
                p.city_ibge_code or "", p.uf, p.profile, p.provider, p.consent_version,
                p.consented_at.isoformat(), p.created_at.isoformat(),
                p.cancelled_at.isoformat() if p.cancelled_at else "")  # fmt: skip

    async def batches(self, conditions: Sequence[ColumnElement[bool]]) -> AsyncIterator[list[Row]]:
        async with self._sessions() as db:
            result = await db.stream_scalars(
                select(Participant)
                .where(*conditions)
                .order_by(Participant.created_at, Participant.id)
                .execution_options(yield_per=BATCH)
            )
            async for partition in result.partitions(BATCH):
                yield [self._row(p) for p in partition]

    async def csv(self, conditions: Sequence[ColumnElement[bool]]) -> AsyncIterator[bytes]:
        """UTF-8 with a BOM, so Excel opens accents right; one chunk per batch."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
        yield ("\ufeff" + buffer.getvalue()).encode()
        async for batch in self.batches(conditions):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(batch)
            yield buffer.getvalue().encode()

    async def xlsx(self, conditions: Sequence[ColumnElement[bool]]) -> AsyncIterator[bytes]:
        """openpyxl's write-only workbook (constant memory) built in a worker thread, batch by
        batch, into a temporary file that is then streamed and deleted. An XLSX is a zip whose
        directory comes last, so nothing can be sent before the last row is written."""
        workbook = Workbook(write_only=True)
        sheet: WriteOnlyWorksheet = workbook.create_sheet("participantes")
        sheet.append(COLUMNS)
        async for batch in self.batches(conditions):
            await asyncio.to_thread(_append, sheet, batch)
        handle, path = tempfile.mkstemp(suffix=".xlsx")
        os.close(handle)
        try:
            await asyncio.to_thread(workbook.save, path)
            with open(path, "rb") as file:  # noqa: ASYNC230 - small reads between awaits
                while chunk := await asyncio.to_thread(file.read, 1 << 20):
                    yield chunk
        finally:
            os.unlink(path)


def _append(sheet: WriteOnlyWorksheet, rows: list[Row]) -> None:
    for row in rows:
        sheet.append(row)
