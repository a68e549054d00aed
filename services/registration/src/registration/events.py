"""The ``registration.*`` events a participant's changes produce (pure: rows in, contracts out).

None carries a full CPF; completed carries it masked. Erased carries no personal data at all.
"""

from __future__ import annotations

from common.contracts import (
    AddressKind,
    Provider,
    RegistrationCancelled,
    RegistrationCompleted,
    RegistrationErased,
    RegistrationPromoted,
    RegistrationStatus,
    RegistrationUpdated,
    ReplyAddress,
)
from registration.models import Participant

PARTICIPANT = "participant"  # ``cancelled_by`` when the person cancelled it themselves


def _common(participant: Participant) -> dict[str, object]:
    reply_to = (
        ReplyAddress(kind=AddressKind(participant.reply_kind), id=participant.reply_id)
        if participant.reply_kind and participant.reply_id
        else None
    )
    return {
        "event_id": participant.event_id,
        "registration_id": participant.id,
        "code": participant.code,
        "status": RegistrationStatus(participant.status),
        "profile": participant.profile,
        "uf": participant.uf,
        "provider": Provider(participant.provider),
        "business_id": participant.business_id,
        "conversation_key": participant.conversation_key,
        "reply_to": reply_to,
    }


def completed(participant: Participant, cpf_masked: str) -> RegistrationCompleted:
    return RegistrationCompleted.model_validate(
        _common(participant)
        | {
            "full_name": participant.full_name,
            "email": participant.email,
            "phone": participant.phone_e164,
            "city": participant.city,
            "cpf_masked": cpf_masked,
            "registered_at": participant.created_at,
        }
    )


def promoted(participant: Participant) -> RegistrationPromoted:
    return RegistrationPromoted.model_validate(
        _common(participant) | {"full_name": participant.full_name, "email": participant.email}
    )


def cancelled(participant: Participant, cancelled_by: str) -> RegistrationCancelled:
    return RegistrationCancelled.model_validate(
        _common(participant)
        | {"full_name": participant.full_name, "email": participant.email, "cancelled_by": cancelled_by}
    )


def updated(participant: Participant, changed: list[str]) -> RegistrationUpdated:
    return RegistrationUpdated.model_validate(
        _common(participant)
        | {"changed": changed, "email": participant.email, "phone": participant.phone_e164}
    )


def erased(participant: Participant) -> RegistrationErased:
    """After anonymisation: the aggregate (profile, UF) and the ids subscribers need to erase too."""
    return RegistrationErased.model_validate(
        _common(participant) | {"conversation_key": None, "reply_to": None, "business_id": None}
    )
