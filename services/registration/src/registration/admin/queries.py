"""What organisers read: participants (searched, paginated), one person's data, statistics."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.contracts import RegistrationStatus
from registration.admin.schemas import Count, DayCount, ParticipantOut, ParticipantPage, PersonalData, Stats
from registration.cpf_vault import CpfVault, mask_cpf
from registration.models import OutboxMessage, Participant

ACTIVE = (RegistrationStatus.CONFIRMED.value, RegistrationStatus.WAITLISTED.value)
_CPF_QUERY = re.compile(r"^\d{3}\.?\d{3}\.?\d{3}-?\d{2}$")


def participant_out(row: Participant, cpf: str | None) -> ParticipantOut:
    return ParticipantOut(
        id=row.id,
        code=row.code,
        event_id=row.event_id,
        status=RegistrationStatus(row.status),
        full_name=row.full_name,
        email=row.email,
        cpf_masked=mask_cpf(cpf) if cpf else None,
        phone=row.phone_e164,
        city=row.city,
        uf=row.uf,
        profile=row.profile,
        provider=row.provider,
        consent_version=row.consent_version,
        consented_at=row.consented_at,
        waitlist_position=row.waitlist_position,
        created_at=row.created_at,
        updated_at=row.updated_at,
        cancelled_at=row.cancelled_at,
        promoted_at=row.promoted_at,
    )


class ParticipantQueries:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], vault: CpfVault) -> None:
        self._sessions = sessions
        self._vault = vault

    def participant_out(self, row: Participant) -> ParticipantOut:
        return participant_out(row, self.cpf_of(row))

    def cpf_of(self, row: Participant) -> str | None:
        if row.status == RegistrationStatus.ERASED.value:
            return None
        return self._vault.open_row(row.cpf_key_id, row.cpf_ciphertext)

    def filters(
        self, q: str | None, status: RegistrationStatus | None, profile: str | None, uf: str | None
    ) -> list[ColumnElement[bool]]:
        """``q`` matches code, name or e-mail (substring, any case), or a whole CPF (by its HMAC)."""
        conditions: list[ColumnElement[bool]] = []
        if q:
            if _CPF_QUERY.match(q.strip()):
                digits = re.sub(r"\D", "", q)
                conditions.append(Participant.cpf_hmac == self._vault.fingerprint(digits))
            else:
                like = f"%{q.strip()}%"
                conditions.append(
                    or_(
                        Participant.code.ilike(like),
                        Participant.full_name.ilike(like),
                        Participant.email.ilike(like),
                    )
                )
        if status:
            conditions.append(Participant.status == status.value)
        if profile:
            conditions.append(Participant.profile == profile)
        if uf:
            conditions.append(Participant.uf == uf.upper())
        return conditions

    async def page(self, conditions: list[ColumnElement[bool]], page: int, page_size: int) -> ParticipantPage:
        async with self._sessions() as db:
            total = await db.scalar(select(func.count()).select_from(Participant).where(*conditions))
            rows = (
                await db.scalars(
                    select(Participant)
                    .where(*conditions)
                    .order_by(Participant.created_at, Participant.id)
                    .offset((page - 1) * page_size)
                    .limit(page_size)
                )
            ).all()
        return ParticipantPage(
            items=[participant_out(row, self.cpf_of(row)) for row in rows],
            total=total or 0,
            page=page,
            page_size=page_size,
        )

    async def by_code(self, code: str) -> ParticipantOut | None:
        async with self._sessions() as db:
            row = await db.scalar(select(Participant).where(Participant.code == code))
        return None if row is None else participant_out(row, self.cpf_of(row))

    async def personal_data(self, code: str) -> PersonalData | None:
        async with self._sessions() as db:
            row = await db.scalar(select(Participant).where(Participant.code == code))
            if row is None:
                return None
            emitted = (
                await db.execute(
                    select(OutboxMessage.routing_key, OutboxMessage.payload)
                    .where(OutboxMessage.payload["registration_id"].astext == str(row.id))
                    .order_by(OutboxMessage.created_at)
                )
            ).all()
        cpf = self.cpf_of(row)
        return PersonalData(
            participant=participant_out(row, cpf),
            cpf=cpf,
            city_ibge_code=row.city_ibge_code,
            conversation_key=row.conversation_key,
            business_id=row.business_id,
            reply_to=f"{row.reply_kind}:{row.reply_id}" if row.reply_kind else None,
            events=[{"routing_key": key, **payload} for key, payload in emitted],
        )

    async def stats(self, event_id: str | None) -> Stats:
        scope = [Participant.event_id == event_id] if event_id else []
        active = [*scope, Participant.status.in_(ACTIVE)]
        day = func.date(func.timezone("America/Sao_Paulo", Participant.created_at))
        async with self._sessions() as db:
            by_status = await _counts(
                db, select(Participant.status, func.count()).where(*scope), Participant.status
            )
            by_profile = await _counts(
                db, select(Participant.profile, func.count()).where(*active), Participant.profile
            )
            by_uf = await _counts(db, select(Participant.uf, func.count()).where(*active), Participant.uf)
            days = await db.execute(select(day, func.count()).where(*active).group_by(day).order_by(day))
            funnel = await self._funnel(db, event_id)
        return Stats(
            total_active=sum(c.count for c in by_status if c.key in ACTIVE),
            by_status=by_status,
            by_profile=by_profile,
            by_uf=by_uf,
            by_day=[DayCount(day=d, count=n) for d, n in days],
            funnel=funnel,
        )

    @staticmethod
    async def _funnel(db: AsyncSession, event_id: str | None) -> list[Count]:
        """Counted from the outbox, which keeps every event emitted (registration.completed is split
        by the status it was completed with: confirmed at once, or waitlisted)."""
        completed_as = func.concat(OutboxMessage.routing_key, ":", OutboxMessage.payload["status"].astext)
        step = case(
            (OutboxMessage.routing_key == "registration.completed", completed_as),
            else_=OutboxMessage.routing_key,
        )
        query = select(step, func.count()).select_from(OutboxMessage)
        if event_id:
            query = query.where(OutboxMessage.payload["event_id"].astext == event_id)
        return await _counts(db, query, step)


async def _counts(db: AsyncSession, query: Select[Any, int], key: Any) -> list[Count]:
    rows = await db.execute(query.group_by(key).order_by(key))
    return [Count(key=str(k), count=n) for k, n in rows]
