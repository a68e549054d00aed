"""Broker subscribers of the registration service: each request is answered on its reply_to."""

from __future__ import annotations

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


def register_handlers(broker: RabbitBroker, registrations: Registrations) -> None:
    @subscriber(broker, REGISTRATION_CHECKS)
    async def on_check_identity(query: CheckIdentity) -> RabbitResponse:
        """Is this CPF / e-mail already registered?"""
        return reply(await registrations.check_identity(query))

    @subscriber(broker, REGISTRATION_SUBMITS)
    async def on_submit(command: SubmitRegistration) -> RabbitResponse:
        """Register a participant (idempotent on the command's id)."""
        return reply(await registrations.submit(command))

    @subscriber(broker, REGISTRATION_FINDS)
    async def on_find(query: FindRegistration) -> RabbitResponse:
        """The registration made through a conversation."""
        return reply(await registrations.find(query))

    @subscriber(broker, REGISTRATION_CANCELS)
    async def on_cancel(command: CancelRegistration) -> RabbitResponse:
        """Cancel a registration made through a conversation."""
        return reply(await registrations.cancel(command))

    @subscriber(broker, REGISTRATION_CONTACT_UPDATES)
    async def on_update_contact(command: UpdateContact) -> RabbitResponse:
        """Change the e-mail / phone of a registration made through a conversation."""
        return reply(await registrations.update_contact(command))
