"""Request handlers of the registration service: each request is answered on its reply_to.

A database that is restarting or cut is waited for (``database.outages.is_transient``) instead of
dead-lettering the request: the use cases are idempotent (a submit on its command id), so one tried
again after a cut hid its commit answers the same. A query whose asker gave up meanwhile is
answered for nobody; a submit still completes, and the person's next try finds it.
"""

from __future__ import annotations

from database.outages import is_transient

from common.consumers import consume
from common.contracts import (
    CancelRegistration,
    CancelReply,
    CheckIdentity,
    FindRegistration,
    IdentityCheckReply,
    RegistrationView,
    SubmitRegistration,
    SubmitReply,
    UpdateContact,
    UpdateReply,
)
from common.messaging import (
    REGISTRATION_CANCELS,
    REGISTRATION_CHECKS,
    REGISTRATION_CONTACT_UPDATES,
    REGISTRATION_FINDS,
    REGISTRATION_SUBMITS,
)
from common.service import ServiceRuntime
from registration.service import Registrations

OUTAGE_WAIT_S = 30.0  # past it the request is dead-lettered (kept, replayable with congress-ops)


def register_handlers(runtime: ServiceRuntime, registrations: Registrations, *, prefetch: int) -> None:
    """Each request queue on a lean consumer (``common.consumers``): the answer goes to the
    request's ``reply_to`` before the request is acked."""

    async def on_check_identity(query: CheckIdentity) -> IdentityCheckReply:
        """Is this CPF / e-mail already registered?"""
        return await registrations.check_identity(query)

    async def on_submit(command: SubmitRegistration) -> SubmitReply:
        """Register a participant (idempotent on the command's id)."""
        return await registrations.submit(command)

    async def on_find(query: FindRegistration) -> RegistrationView:
        """The registration made through a conversation."""
        return await registrations.find(query)

    async def on_cancel(command: CancelRegistration) -> CancelReply:
        """Cancel a registration made through a conversation."""
        return await registrations.cancel(command)

    async def on_update_contact(command: UpdateContact) -> UpdateReply:
        """Change the e-mail / phone of a registration made through a conversation."""
        return await registrations.update_contact(command)

    for queue, handler in (
        (REGISTRATION_CHECKS, on_check_identity),
        (REGISTRATION_SUBMITS, on_submit),
        (REGISTRATION_FINDS, on_find),
        (REGISTRATION_CANCELS, on_cancel),
        (REGISTRATION_CONTACT_UPDATES, on_update_contact),
    ):
        consume(
            runtime, queue, handler, prefetch=prefetch, outage_wait_s=OUTAGE_WAIT_S, transient=is_transient
        )
