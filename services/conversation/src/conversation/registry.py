"""The registration service, asked over the broker (request/reply), as the machine's ``Query``."""

from __future__ import annotations

from typing import Protocol

from faststream.rabbit import RabbitBroker
from faststream.rabbit.publisher import RabbitPublisher

from common.contracts import (
    CancelRegistration,
    CancelReply,
    CheckIdentity,
    Contract,
    FindRegistration,
    IdentityCheckReply,
    Provider,
    RegistrationView,
    SubmitRegistration,
    SubmitReply,
)
from common.contracts.registration import submission_id
from common.logging import get_logger
from common.messaging import publisher
from conversation.domain.machine import (
    Answer,
    Cancel,
    Cancelled,
    CheckTaken,
    Found,
    Lookup,
    Query,
    Submit,
    Submitted,
    Taken,
    Unavailable,
)
from conversation.domain.understanding import FormField

log = get_logger(__name__)


class Registry(Protocol):
    async def ask(
        self, query: Query, *, event_id: str, conversation_key: str, provider: Provider
    ) -> Answer: ...


def submit_command(
    form: Submit, *, event_id: str, conversation_key: str, provider: Provider
) -> SubmitRegistration:
    f = form.form
    # The machine submits complete forms only.
    assert f.consented_at is not None
    assert f.consent_version is not None
    return SubmitRegistration(
        message_id=submission_id(conversation_key, f.fingerprint()),
        event_id=event_id,
        provider=provider,
        conversation_key=conversation_key,
        full_name=f.full_name or "",
        email=f.email or "",
        cpf=f.cpf or "",
        phone=f.phone,
        city=f.city or "",
        city_ibge_code=f.city_ibge_code,
        uf=f.uf or "",
        profile=f.profile or "",
        consent_version=f.consent_version,
        consented_at=f.consented_at,
    )


class BrokerRegistry:
    """Request/reply through RabbitMQ's direct reply-to; no answer in time → ``Unavailable``."""

    def __init__(self, broker: RabbitBroker, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._checks = publisher(broker, CheckIdentity, timeout=timeout_s)
        self._submits = publisher(broker, SubmitRegistration, timeout=timeout_s)
        self._finds = publisher(broker, FindRegistration, timeout=timeout_s)
        self._cancels = publisher(broker, CancelRegistration, timeout=timeout_s)

    async def ask(self, query: Query, *, event_id: str, conversation_key: str, provider: Provider) -> Answer:
        key = {"event_id": event_id, "conversation_key": conversation_key}
        try:
            match query:
                case CheckTaken(field=field, value=value):
                    cpf, email = (value, None) if field is FormField.CPF else (None, value)
                    check = await self._request(self._checks, CheckIdentity(**key, cpf=cpf, email=email))
                    reply = IdentityCheckReply.model_validate_json(check)
                    return Taken(field, reply.taken, reply.same_conversation)
                case Submit():
                    command = submit_command(
                        query, event_id=event_id, conversation_key=conversation_key, provider=provider
                    )
                    submitted = SubmitReply.model_validate_json(await self._request(self._submits, command))
                    return Submitted(submitted.outcome, submitted.code, submitted.status)
                case Lookup(purpose=purpose):
                    found = await self._request(self._finds, FindRegistration(**key))
                    return Found(purpose, RegistrationView.model_validate_json(found))
                case Cancel(code=code):
                    cancelled = await self._request(self._cancels, CancelRegistration(**key, code=code))
                    reply_ = CancelReply.model_validate_json(cancelled)
                    return Cancelled(reply_.outcome, reply_.code)
        except TimeoutError:
            log.warning("registration.unavailable", query=type(query).__name__, timeout_s=self._timeout_s)
            return Unavailable(query)

    async def _request(self, pub: RabbitPublisher, message: Contract) -> bytes:
        response = await pub.request(message, message_id=str(message.message_id), timeout=self._timeout_s)
        return response.body
