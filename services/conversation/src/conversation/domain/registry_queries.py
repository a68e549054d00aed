"""What the dialogue asks of the registration service (``Query``) and what it hears back (``Answer``).

Plain values: the service layer turns a query into a request over the broker and the reply into an
answer (``conversation.registry``); the state machine never sees the bus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from common.contracts import CancelOutcome, RegistrationStatus, RegistrationView, SubmitOutcome
from conversation.domain.form import RegistrationForm
from conversation.domain.understanding import FormField


@dataclass(frozen=True)
class CheckTaken:
    field: FormField  # CPF or EMAIL
    value: str


@dataclass(frozen=True)
class Submit:
    form: RegistrationForm


@dataclass(frozen=True)
class Lookup:
    purpose: Literal["show", "cancel"]


@dataclass(frozen=True)
class Cancel:
    code: str


Query = CheckTaken | Submit | Lookup | Cancel


@dataclass(frozen=True)
class Taken:
    field: FormField
    taken: bool
    same_conversation: bool = False


@dataclass(frozen=True)
class Submitted:
    outcome: SubmitOutcome
    code: str | None = None
    status: RegistrationStatus | None = None


@dataclass(frozen=True)
class Found:
    purpose: Literal["show", "cancel"]
    view: RegistrationView


@dataclass(frozen=True)
class Cancelled:
    outcome: CancelOutcome
    code: str | None = None


@dataclass(frozen=True)
class Unavailable:
    """The registration service did not answer in time."""

    query: Query


Answer = Taken | Submitted | Found | Cancelled | Unavailable
