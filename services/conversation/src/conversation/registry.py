"""The registration service, asked over the broker (request/reply), as the machine's ``Query``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from faststream.rabbit import RabbitBroker

from common.contracts import (
    CancelRegistration,
    CancelReply,
    CheckIdentity,
    Contract,
    FindRegistration,
    IdentityCheckReply,
    Provider,
    RegistrationView,
    ReplyAddress,
    SubmitRegistration,
    SubmitReply,
)
from common.contracts.registration import submission_id
from common.logging import get_logger
from common.messaging import publisher
from common.rpc import RpcClient
from conversation.domain.registry_queries import (
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


@dataclass(frozen=True)
class Asker:
    """Who is asking: the chat a registration comes from (kept with it, for messages about it)."""

    event_id: str
    conversation_key: str
    provider: Provider
    business_id: str
    reply_to: ReplyAddress


class Registry(Protocol):
    async def ask(self, query: Query, asker: Asker) -> Answer: ...


def submit_command(form: Submit, asker: Asker) -> SubmitRegistration:
    f = form.form
    # The machine submits complete forms only.
    assert f.consented_at is not None
    assert f.consent_version is not None
    return SubmitRegistration(
        message_id=submission_id(asker.conversation_key, f.fingerprint()),
        event_id=asker.event_id,
        provider=asker.provider,
        conversation_key=asker.conversation_key,
        business_id=asker.business_id,
        reply_to=asker.reply_to,
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
    """Request/reply through RabbitMQ's direct reply-to, concurrently (``common.rpc``); no answer
    in time → ``Unavailable``."""

    def __init__(self, broker: RabbitBroker, rpc: RpcClient, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._rpc = rpc
        for contract in (CheckIdentity, SubmitRegistration, FindRegistration, CancelRegistration):
            publisher(broker, contract, timeout=timeout_s)  # declared for AsyncAPI; sent through rpc

    async def ask(self, query: Query, asker: Asker) -> Answer:
        key = {"event_id": asker.event_id, "conversation_key": asker.conversation_key}
        try:
            match query:
                case CheckTaken(field=field, value=value):
                    cpf, email = (value, None) if field is FormField.CPF else (None, value)
                    check = await self._request(CheckIdentity(**key, cpf=cpf, email=email))
                    reply = IdentityCheckReply.model_validate_json(check)
                    return Taken(field, reply.taken, reply.same_conversation)
                case Submit():
                    command = submit_command(query, asker)
                    submitted = SubmitReply.model_validate_json(await self._request(command))
                    return Submitted(submitted.outcome, submitted.code, submitted.status)
                case Lookup(purpose=purpose):
                    found = await self._request(FindRegistration(**key))
                    return Found(purpose, RegistrationView.model_validate_json(found))
                case Cancel(code=code):
                    cancelled = await self._request(CancelRegistration(**key, code=code))
                    reply_ = CancelReply.model_validate_json(cancelled)
                    return Cancelled(reply_.outcome, reply_.code)
        except TimeoutError:
            log.warning("registration.unavailable", query=type(query).__name__, timeout_s=self._timeout_s)
            return Unavailable(query)

    async def _request(self, message: Contract) -> bytes:
        return await self._rpc.request(message, timeout=self._timeout_s)
