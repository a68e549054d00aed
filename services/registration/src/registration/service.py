"""Use cases of the registration service: answer identity checks, register, find, change, cancel,
erase.

Uniqueness is the database's job (partial unique indexes on active registrations), so two replicas
racing on one CPF still end with one participant; the loser learns who won and answers kindly.
A submit carries a deterministic id, so a redelivered or retried submit returns the same code.
Every change writes its ``registration.*`` event to the outbox in the same transaction.
When the event has a capacity, changes that take or free a place hold the event's capacity lock
(a transaction-scoped advisory lock, always taken first), so places are counted one change at a time.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

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
    UpdateContact,
    UpdateOutcome,
    UpdateReply,
)
from common.logging import get_logger
from registration import events
from registration.capacity import Capacity
from registration.codes import new_code
from registration.cpf_vault import CpfVault, mask_cpf
from registration.models import WAITLIST_SEQUENCE, OutboxMessage, Participant
from registration.outbox import outbox_row, stage

log = get_logger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

ACTIVE = (RegistrationStatus.CONFIRMED.value, RegistrationStatus.WAITLISTED.value)
# What "minha inscrição" shows, read as plain columns (no ORM identity map for one read).
_VIEW_COLUMNS = (
    Participant.code,
    Participant.status,
    Participant.full_name,
    Participant.email,
    Participant.cpf_key_id,
    Participant.cpf_ciphertext,
    Participant.profile,
    Participant.created_at,
)
_CODE_ATTEMPTS = 5
_CONFLICTS = ("uq_participants_active_cpf", "uq_participants_active_email", "uq_participants_submission_id")
# Personal fields removed from the stored copies of an erased person's published events.
_PERSONAL_EVENT_FIELDS = ("full_name", "email", "phone", "city", "cpf_masked", "conversation_key",
                          "reply_to", "business_id")  # fmt: skip
_PERSONAL_FIELDS = bindparam("personal_fields", list(_PERSONAL_EVENT_FIELDS), type_=ARRAY(Text))
ERASED_NAME = "[apagado]"

PARTICIPANTS = cast(Table, Participant.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)
_SUBMITTED = ("id", "code", "event_id", "full_name", "email", "cpf_hmac", "cpf_ciphertext", "cpf_key_id",
              "phone_e164", "city", "city_ibge_code", "uf", "profile", "consent_version", "consented_at",
              "provider", "conversation_key", "business_id", "reply_kind", "reply_id", "status",
              "submission_id", "created_at", "waitlist_position")  # fmt: skip
# The participant and its ``registration.completed`` outbox row in one statement (atomic on its own;
# a taken CPF / e-mail fails it whole): one round trip for the whole submit. Built once, so
# SQLAlchemy's compiled cache is hit without walking the values on every call. Core tables, not
# the ORM entities: a session would take it for an ORM bulk insert.
_INSERT_WITH_EVENT = insert(OUTBOX).from_select(
    ["id", "routing_key", "payload", "attempts"],
    select(
        bindparam("outbox_id", type_=Uuid),
        bindparam("outbox_routing_key", type_=String),
        bindparam("outbox_payload", type_=JSONB),
        literal(0),
    ).select_from(
        insert(PARTICIPANTS)
        .values({name: bindparam(name) for name in _SUBMITTED})
        .returning(PARTICIPANTS.c.id)
        .cte("participant")
    ),
)


def reconnecting(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Run once more when the database connection turned out dead (PostgreSQL restarted since it was
    pooled). The pool does not ping at checkout (three round trips per use); SQLAlchemy invalidates
    every older pooled connection on the first one found dead, so the second try gets a fresh one.
    Safe to repeat: each use case is one transaction, and a submit that did commit is recognised by
    its submission id."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            log.warning("database.reconnecting", error=repr(exc.orig))
            return await method(*args, **kwargs)

    return wrapper


def _with_event(row: dict[str, object], cpf: str) -> dict[str, object]:
    """The parameters of ``_INSERT_WITH_EVENT``: the row and its ``registration.completed``."""
    event = outbox_row(events.completed(Participant(**row), mask_cpf(cpf)))
    return row | {f"outbox_{name}": value for name, value in event.items()}


class Registrations:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        vault: CpfVault,
        code_prefix: str,
        capacity: Capacity | None = None,
        on_events: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        engine = sessions.kw["bind"]
        assert isinstance(engine, AsyncEngine)
        # One statement needs no transaction of its own: no BEGIN / COMMIT round trips.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._vault = vault
        self._prefix = code_prefix
        self._capacity = capacity or Capacity()
        self._on_events = on_events  # wakes the outbox relay after a commit with events

    @reconnecting
    async def check_identity(self, query: CheckIdentity) -> IdentityCheckReply:
        conditions = []
        if query.cpf:
            conditions.append(Participant.cpf_hmac == self._vault.fingerprint(query.cpf))
        if query.email:
            conditions.append(Participant.email == query.email.lower())
        if not conditions:
            return IdentityCheckReply(taken=False)
        async with self._autocommit.connect() as conn:  # one SELECT: no BEGIN / ROLLBACK round trips
            holder = await conn.scalar(
                select(Participant.conversation_key)
                .where(
                    Participant.event_id == query.event_id, Participant.status.in_(ACTIVE), or_(*conditions)
                )
                .limit(1)
            )
        return IdentityCheckReply(
            taken=holder is not None, same_conversation=holder == query.conversation_key
        )

    @reconnecting
    async def submit(self, command: SubmitRegistration) -> SubmitReply:
        # No look-up first: a repeated submit hits the unique submission_id, which
        # _explain_conflict answers with the first one's code (one round trip less on every submit).
        for _ in range(_CODE_ATTEMPTS):
            try:
                return await self._insert(command)
            except IntegrityError as exc:
                constraint = str(exc.orig)  # names the violated index
                if "uq_participants_code" in constraint:
                    continue  # a one-in-millions code collision: draw another
                if not any(name in constraint for name in _CONFLICTS):
                    raise  # not a taken CPF / e-mail / submission: a bug, not an answer
                return await self._explain_conflict(command, constraint)
        raise RuntimeError("could not draw a free registration code")

    async def _insert(self, command: SubmitRegistration) -> SubmitReply:
        sealed = self._vault.seal(command.cpf)
        row: dict[str, object] = {
            "id": uuid.uuid4(),
            "code": new_code(self._prefix),
            "event_id": command.event_id,
            "full_name": command.full_name,
            "email": command.email.lower(),
            "cpf_hmac": self._vault.fingerprint(command.cpf),
            "cpf_ciphertext": sealed.ciphertext,
            "cpf_key_id": sealed.key_id,
            "phone_e164": command.phone,
            "city": command.city,
            "city_ibge_code": command.city_ibge_code,
            "uf": command.uf,
            "profile": command.profile,
            "consent_version": command.consent_version,
            "consented_at": command.consented_at,
            "provider": command.provider.value,
            "conversation_key": command.conversation_key,
            "business_id": command.business_id,
            "reply_kind": command.reply_to.kind.value if command.reply_to else None,
            "reply_id": command.reply_to.id if command.reply_to else None,
            "status": RegistrationStatus.CONFIRMED.value,
            "submission_id": command.message_id,
            "created_at": datetime.now(UTC),
            "waitlist_position": None,
        }
        status = RegistrationStatus.CONFIRMED
        if not self._capacity.limited:  # the statement is atomic by itself: no BEGIN / COMMIT
            async with self._autocommit.connect() as conn:
                await conn.execute(_INSERT_WITH_EVENT, _with_event(row, command.cpf))
        else:
            async with self._sessions() as db, db.begin():
                await self._lock_capacity(db, command.event_id)
                if not self._capacity.has_place(command.profile, await self._confirmed(db, command.event_id)):
                    status = RegistrationStatus.WAITLISTED
                    row["status"] = status.value
                    row["waitlist_position"] = await db.scalar(WAITLIST_SEQUENCE.next_value())
                await db.execute(_INSERT_WITH_EVENT, _with_event(row, command.cpf))
        self._on_events()
        log.info("registration.created", code=row["code"], profile=command.profile, status=status)
        return SubmitReply(outcome=SubmitOutcome.CREATED, code=row["code"], status=status)

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

    @reconnecting
    async def find(self, query: FindRegistration) -> RegistrationView:
        async with self._autocommit.connect() as conn:  # one SELECT: no BEGIN / ROLLBACK round trips
            found = (
                await conn.execute(
                    select(*_VIEW_COLUMNS)
                    .where(
                        Participant.event_id == query.event_id,
                        Participant.conversation_key == query.conversation_key,
                        Participant.status != RegistrationStatus.ERASED.value,
                    )
                    .order_by(Participant.status.in_(ACTIVE).desc(), Participant.created_at.desc())
                    .limit(1)
                )
            ).first()
        if found is None:
            return RegistrationView(found=False)
        cpf = self._vault.open_row(found.cpf_key_id, found.cpf_ciphertext)  # the connection is back
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
        """The person cancels their own registration (found by code within their conversation)."""
        mine = (
            Participant.event_id == command.event_id,
            Participant.code == command.code,
            Participant.conversation_key == command.conversation_key,  # only your own
        )
        return await self.cancel_where(mine, events.PARTICIPANT)

    @reconnecting
    async def cancel_where(
        self, conditions: tuple[ColumnElement[bool], ...], cancelled_by: str
    ) -> CancelReply:
        async with self._sessions() as db, db.begin():
            found = await self._locked(db, conditions)
            if found is None:
                return CancelReply(outcome=CancelOutcome.NOT_FOUND)
            if found.status not in ACTIVE:
                return CancelReply(outcome=CancelOutcome.ALREADY_CANCELLED, code=found.code)
            held_a_place = found.status == RegistrationStatus.CONFIRMED.value
            found.status = RegistrationStatus.CANCELLED.value
            found.cancelled_at = datetime.now(UTC)
            stage(db, events.cancelled(found, cancelled_by))
            if held_a_place:
                await self._promote(db, found.event_id)
        self._on_events()
        log.info("registration.cancelled", code=found.code, by=cancelled_by)
        return CancelReply(outcome=CancelOutcome.CANCELLED, code=found.code)

    @reconnecting
    async def update_contact(self, command: UpdateContact) -> UpdateReply:
        """Change e-mail and/or phone of the person's own active registration."""
        mine = (
            Participant.event_id == command.event_id,
            Participant.code == command.code,
            Participant.conversation_key == command.conversation_key,
            Participant.status.in_(ACTIVE),
        )
        try:
            async with self._sessions() as db, db.begin():
                found = await self._locked(db, mine, capacity_lock=False)
                if found is None:
                    return UpdateReply(outcome=UpdateOutcome.NOT_FOUND)
                changed = []
                if command.email is not None and command.email.lower() != found.email:
                    found.email = command.email.lower()
                    changed.append("email")
                if command.phone is not None and command.phone != found.phone_e164:
                    found.phone_e164 = command.phone
                    changed.append("phone")
                if not changed:
                    return UpdateReply(outcome=UpdateOutcome.UNCHANGED, code=found.code)
                await db.flush()  # an e-mail someone else holds fails here
                stage(db, events.updated(found, changed))
        except IntegrityError:
            return UpdateReply(outcome=UpdateOutcome.EMAIL_TAKEN, code=command.code)
        self._on_events()
        log.info("registration.updated", code=command.code, changed=changed)
        return UpdateReply(outcome=UpdateOutcome.UPDATED, code=command.code, changed=changed)

    @reconnecting
    async def erase(self, code: str) -> Participant | None:
        """LGPD erasure: anonymise the person (the aggregate stays), scrub the stored copies of their
        events, free a place if they held one. None when there is no such (unerased) registration."""
        async with self._sessions() as db, db.begin():
            found = await self._locked(db, (Participant.code == code,))
            if found is None or found.status == RegistrationStatus.ERASED.value:
                return None
            held_a_place = found.status == RegistrationStatus.CONFIRMED.value
            now = datetime.now(UTC)
            found.full_name = ERASED_NAME
            found.email = f"erased-{found.id}@invalid"
            found.cpf_hmac = bytes(32)  # uniqueness holds among active registrations only
            found.cpf_ciphertext = b""
            found.cpf_key_id = "erased"
            found.phone_e164 = None
            found.city = ""
            found.city_ibge_code = None
            found.conversation_key = f"erased:{found.id}"
            found.business_id = found.reply_kind = found.reply_id = None
            found.submission_id = None
            found.status = RegistrationStatus.ERASED.value
            found.erased_at = now
            found.updated_at = now  # set here: the answer shows it after the session closes
            found.cancelled_at = found.cancelled_at or now
            await db.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.payload["registration_id"].astext == str(found.id),
                    OutboxMessage.published_at.is_not(None),  # unpublished ones must stay valid to publish
                )
                .values(payload=OutboxMessage.payload.op("-")(_PERSONAL_FIELDS))
            )
            stage(db, events.erased(found))
            if held_a_place:
                await self._promote(db, found.event_id)
        self._on_events()
        log.info("registration.erased", registration_id=str(found.id))
        return found

    @reconnecting
    async def promote_waiting(self) -> int:
        """Offer free places to waitlists (after a capacity change: run at start). How many promoted."""
        if not self._capacity.limited:
            return 0
        async with self._sessions() as db:
            event_ids = (
                await db.scalars(
                    select(Participant.event_id)
                    .where(Participant.status == RegistrationStatus.WAITLISTED.value)
                    .distinct()
                )
            ).all()
        promoted = 0
        for event_id in event_ids:
            async with self._sessions() as db, db.begin():
                await self._lock_capacity(db, event_id)
                promoted += await self._promote(db, event_id)
        if promoted:
            self._on_events()
        return promoted

    async def _locked(
        self, db: AsyncSession, conditions: tuple[ColumnElement[bool], ...], *, capacity_lock: bool = True
    ) -> Participant | None:
        """The row, locked for update; with the capacity lock of its event taken first (lock order:
        capacity, then row, as in submit, so the two never deadlock)."""
        if capacity_lock and self._capacity.limited:
            event_id = await db.scalar(select(Participant.event_id).where(*conditions))
            if event_id is None:
                return None
            await self._lock_capacity(db, event_id)
        return await db.scalar(select(Participant).where(*conditions).with_for_update())

    @staticmethod
    async def _lock_capacity(db: AsyncSession, event_id: str) -> None:
        await db.execute(
            select(func.pg_advisory_xact_lock(func.hashtext(f"registration.capacity:{event_id}")))
        )

    @staticmethod
    async def _confirmed(db: AsyncSession, event_id: str) -> dict[str, int]:
        rows = await db.execute(
            select(Participant.profile, func.count())
            .where(Participant.event_id == event_id, Participant.status == RegistrationStatus.CONFIRMED.value)
            .group_by(Participant.profile)
        )
        return dict(rows.all())

    async def _promote(self, db: AsyncSession, event_id: str) -> int:
        """Give free places to the waitlist, in order (the capacity lock is held)."""
        if not self._capacity.limited:
            return 0
        waiting = (
            await db.scalars(
                select(Participant)
                .where(
                    Participant.event_id == event_id,
                    Participant.status == RegistrationStatus.WAITLISTED.value,
                )
                .order_by(Participant.waitlist_position)
                .with_for_update()
            )
        ).all()
        chosen = self._capacity.promotions(
            await self._confirmed(db, event_id), ((p, p.profile) for p in waiting)
        )
        now = datetime.now(UTC)
        for participant in chosen:
            participant.status = RegistrationStatus.CONFIRMED.value
            participant.promoted_at = now
            stage(db, events.promoted(participant))
            log.info("registration.promoted", code=participant.code)
        return len(chosen)
