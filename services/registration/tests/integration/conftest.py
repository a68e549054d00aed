"""Shared helpers of the registration integration tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from common.contracts import AddressKind, Provider, ReplyAddress, SubmitRegistration

CPF_BASE = 100_000_000  # nine digits; check digits computed below


def valid_cpf(n: int) -> str:
    """The n-th valid CPF (check digits right; never all-same digits)."""
    body = [int(d) for d in f"{CPF_BASE + n:09d}"]
    for length in (9, 10):
        total = sum(d * w for d, w in zip(body, range(length + 1, 1, -1), strict=True))
        body.append((total * 10 % 11) % 10)
    return "".join(map(str, body))


def a_submit(event_id: str, n: int, profile: str = "produtor") -> SubmitRegistration:
    return SubmitRegistration(
        event_id=event_id,
        provider=Provider.META,
        conversation_key=f"meta:b:{event_id}:{n}",
        full_name=f"Pessoa {n} da Silva",
        email=f"p{n}.{uuid.uuid4().hex[:6]}@example.com",
        cpf=valid_cpf(n),
        phone="+5564999990000",
        city="Rio Verde",
        uf="GO",
        profile=profile,
        consent_version="2027-01",
        consented_at=datetime(2027, 1, 10, tzinfo=UTC),
        business_id="5564000000000",
        reply_to=ReplyAddress(kind=AddressKind.WA_ID, id=f"5564999{n:06d}"),
    )
