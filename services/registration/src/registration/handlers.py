"""Broker subscribers of the registration service: each request is answered on its reply_to.

A database that is restarting or cut is waited for (``database.outages.patiently``) instead of
dead-lettering the request: the use cases are idempotent (a submit on its command id), so one tried
again after a cut hid its commit answers the same. A query whose asker gave up meanwhile is
answered for nobody; a submit still completes, and the person's next try finds it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from database.outages import patiently
from faststream.rabbit import RabbitBroker, RabbitResponse

from common.contracts import (
    CancelRegistration,
    CheckIdentity,
    FindRegistration,
    SubmitRegistration,
    UpdateContact,
)
from common.messaging import (
    REGISTRATION_CANCELS,
    REGISTRATION_CHECKS,
    REGISTRATION_CONTACT_UPDATES,
    REGISTRATION_FINDS,
    REGISTRATION_SUBMITS,
    reply,
    subscriber,
)
from registration.service import Registrations

T = TypeVar("T")

OUTAGE_WAIT_S = 30.0  # past it the request is dead-lettered (kept, replayable with congress-ops)


async def _waiting(use_case: str, run: Callable[[], Awaitable[T]]) -> T:
    return await patiently(run, what=f"registration: {use_case}", wait_s=OUTAGE_WAIT_S)


def register_handlers(broker: RabbitBroker, registrations: Registrations) -> None:
    @subscriber(broker, REGISTRATION_CHECKS)
    async def on_check_identity(query: CheckIdentity) -> RabbitResponse:
        """Is this CPF / e-mail already registered?"""
        return reply(await _waiting("check_identity", lambda: registrations.check_identity(query)))

    @subscriber(broker, REGISTRATION_SUBMITS)
    async def on_submit(command: SubmitRegistration) -> RabbitResponse:
        """Register a participant (idempotent on the command's id)."""
        return reply(await _waiting("submit", lambda: registrations.submit(command)))

    @subscriber(broker, REGISTRATION_FINDS)
    async def on_find(query: FindRegistration) -> RabbitResponse:
        """The registration made through a conversation."""
        return reply(await _waiting("find", lambda: registrations.find(query)))

    @subscriber(broker, REGISTRATION_CANCELS)
    async def on_cancel(command: CancelRegistration) -> RabbitResponse:
        """Cancel a registration made through a conversation."""
        return reply(await _waiting("cancel", lambda: registrations.cancel(command)))

    @subscriber(broker, REGISTRATION_CONTACT_UPDATES)
    async def on_update_contact(command: UpdateContact) -> RabbitResponse:
        """Change the e-mail / phone of a registration made through a conversation."""
        return reply(await _waiting("update_contact", lambda: registrations.update_contact(command)))
