"""Use cases of the registration service: answer identity checks, register, find, cancel.

Uniqueness is the database's job (partial unique indexes on active registrations), so two replicas
racing on one CPF still end with one participant; the loser learns who won and answers kindly.
A submit carries a deterministic id, so a redelivered or retried submit returns the same code.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.contracts import (
    CancelOutcome,
    CancelRegistration,
    CancelReply,
    CheckIdentity,
    FindRegistration,
    IdentityCheckReply,
    RegistrationStatus,
    RegistrationView,
    SubmitOutcome,
    SubmitRegistration,
    SubmitReply,
)
from common.logging import get_logger
from registration.codes import new_code
from registration.cpf_vault import CpfVault, mask_cpf
from registration.models import Participant

log = get_logger(__name__)

ACTIVE = (RegistrationStatus.CONFIRMED.value, RegistrationStatus.WAITLISTED.value)
_CODE_ATTEMPTS = 5


class Registrations:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], vault: CpfVault, code_prefix: str) -> None:
        self._sessions = sessions
        self._vault = vault
        self._prefix = code_prefix

    async def check_identity(self, query: CheckIdentity) -> IdentityCheckReply:
        conditions = []
        if query.cpf:
            conditions.append(Participant.cpf_hmac == self._vault.fingerprint(query.cpf))
        if query.email:
            conditions.append(Participant.email == query.email.lower())
        if not conditions:
            return IdentityCheckReply(taken=False)
        async with self._sessions() as db:
            holder = await db.scalar(
                select(Participant.conversation_key)
                .where(
                    Participant.event_id == query.event_id, Participant.status.in_(ACTIVE), or_(*conditions)
                )
                .limit(1)
            )
        return IdentityCheckReply(
            taken=holder is not None, same_conversation=holder == query.conversation_key
        )

    async def submit(self, command: SubmitRegistration) -> SubmitReply:
        previous = await self._by_submission(command)
        if previous is not None:
            return SubmitReply(
                outcome=SubmitOutcome.ALREADY_REGISTERED, code=previous.code, status=previous.status
            )
        for _ in range(_CODE_ATTEMPTS):
            try:
                return await self._insert(command)
            except IntegrityError as exc:
                constraint = str(exc.orig)  # names the violated index
                if "uq_participants_code" in constraint:
                    continue  # a one-in-millions code collision: draw another
                return await self._explain_conflict(command, constraint)
        raise RuntimeError("could not draw a free registration code")

    async def _insert(self, command: SubmitRegistration) -> SubmitReply:
        sealed = self._vault.seal(command.cpf)
        participant = Participant(
            code=new_code(self._prefix),
            event_id=command.event_id,
            full_name=command.full_name,
            email=command.email.lower(),
            cpf_hmac=self._vault.fingerprint(command.cpf),
            cpf_ciphertext=sealed.ciphertext,
            cpf_key_id=sealed.key_id,
            phone_e164=command.phone,
            city=command.city,
            city_ibge_code=command.city_ibge_code,
            uf=command.uf,
            profile=command.profile,
            consent_version=command.consent_version,
            consented_at=command.consented_at,
            provider=command.provider.value,
            conversation_key=command.conversation_key,
            status=RegistrationStatus.CONFIRMED.value,
            submission_id=command.message_id,
        )
        async with self._sessions() as db, db.begin():
            db.add(participant)
        log.info("registration.created", code=participant.code, profile=command.profile, uf=command.uf)
        return SubmitReply(
            outcome=SubmitOutcome.CREATED, code=participant.code, status=RegistrationStatus.CONFIRMED
        )

    async def _by_submission(self, command: SubmitRegistration) -> Participant | None:
        async with self._sessions() as db:
            return await db.scalar(select(Participant).where(Participant.submission_id == command.message_id))

    async def _explain_conflict(self, command: SubmitRegistration, constraint: str) -> SubmitReply:
        """Another registration holds this CPF/e-mail (or this very submit won a race)."""
        previous = await self._by_submission(command)
        if previous is not None:
            return SubmitReply(
                outcome=SubmitOutcome.ALREADY_REGISTERED, code=previous.code, status=previous.status
            )
        if "uq_participants_active_cpf" in constraint:
            holder = await self._active_holder(
                command.event_id, Participant.cpf_hmac == self._vault.fingerprint(command.cpf)
            )
            outcome = SubmitOutcome.CPF_TAKEN
        else:
            holder = await self._active_holder(command.event_id, Participant.email == command.email.lower())
            outcome = SubmitOutcome.EMAIL_TAKEN
        if (
            holder is not None
            and holder.conversation_key == command.conversation_key
            and outcome is SubmitOutcome.CPF_TAKEN
        ):
            # The same person from the same chat, with a slightly different form: one registration.
            return SubmitReply(
                outcome=SubmitOutcome.ALREADY_REGISTERED, code=holder.code, status=holder.status
            )
        log.info("registration.conflict", outcome=outcome)
        return SubmitReply(outcome=outcome)

    async def _active_holder(self, event_id: str, condition: ColumnElement[bool]) -> Participant | None:
        async with self._sessions() as db:
            return await db.scalar(
                select(Participant)
                .where(Participant.event_id == event_id, Participant.status.in_(ACTIVE), condition)
                .limit(1)
            )

    async def find(self, query: FindRegistration) -> RegistrationView:
        async with self._sessions() as db:
            found = await db.scalar(
                select(Participant)
                .where(
                    Participant.event_id == query.event_id,
                    Participant.conversation_key == query.conversation_key,
                    Participant.status != RegistrationStatus.ERASED.value,
                )
                .order_by(Participant.status.in_(ACTIVE).desc(), Participant.created_at.desc())
                .limit(1)
            )
            if found is None:
                return RegistrationView(found=False)
            cpf = self._vault.open_row(found.cpf_key_id, found.cpf_ciphertext)
        return RegistrationView(
            found=True,
            code=found.code,
            status=RegistrationStatus(found.status),
            full_name=found.full_name,
            email=found.email,
            cpf_masked=mask_cpf(cpf),
            profile=found.profile,
            registered_at=found.created_at,
        )

    async def cancel(self, command: CancelRegistration) -> CancelReply:
        async with self._sessions() as db, db.begin():
            found = await db.scalar(
                select(Participant)
                .where(
                    Participant.event_id == command.event_id,
                    Participant.code == command.code,
                    Participant.conversation_key == command.conversation_key,  # only your own
                )
                .with_for_update()
            )
            if found is None:
                return CancelReply(outcome=CancelOutcome.NOT_FOUND)
            if found.status not in ACTIVE:
                return CancelReply(outcome=CancelOutcome.ALREADY_CANCELLED, code=found.code)
            found.status = RegistrationStatus.CANCELLED.value
            found.cancelled_at = datetime.now(UTC)
        log.info("registration.cancelled", code=command.code)
        return CancelReply(outcome=CancelOutcome.CANCELLED, code=command.code)
