"""What a language engine makes of one user message: a proposal the state machine then judges.

Engines (offline rules, or an LLM) only *propose* an intent and raw slot values; the state machine
and the validators decide what is accepted. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Intent(StrEnum):
    NONE = "none"  # nothing beyond the slots (an answer to what was asked)
    GREETING = "greeting"
    MENU = "menu"  # show the options again
    REGISTER = "register"  # start (or resume) the registration
    QUESTION = "question"  # a question about the event
    MY_REGISTRATION = "my_registration"  # "minha inscrição": status and code
    CANCEL_REGISTRATION = "cancel_registration"  # cancel an existing registration
    HUMAN = "human"  # "falar com atendente"
    BACK = "back"  # "voltar": the previous form step
    CANCEL = "cancel"  # "cancelar": leave the form / the current action
    RESTART = "restart"  # "recomeçar": the form from the start
    YES = "yes"
    NO = "no"
    THANKS = "thanks"


class FormField(StrEnum):
    """The registration form's fields, in the order they are asked."""

    FULL_NAME = "full_name"
    EMAIL = "email"
    CPF = "cpf"
    PHONE = "phone"
    CITY = "city"
    UF = "uf"
    PROFILE = "profile"


class Expecting(StrEnum):
    """What the bot asked last, so a bare answer ("sim", "3", "Maria") can be read in context."""

    MENU = "menu"
    CONSENT = "consent"
    FULL_NAME = "full_name"
    EMAIL = "email"
    CPF = "cpf"
    PHONE = "phone"
    CITY = "city"
    UF = "uf"
    PROFILE = "profile"
    CONFIRM = "confirm"  # the summary: confirm or correct
    YES_NO = "yes_no"  # any other yes/no question (resume, cancel registration, resend)

    @property
    def field(self) -> FormField | None:
        try:
            return FormField(self.value)
        except ValueError:
            return None


@dataclass(frozen=True)
class Option:
    """A choice the bot offered: ``id`` is what a button/list row sends back, ``label`` what it shows."""

    id: str
    label: str


@dataclass(frozen=True)
class HistoryLine:
    role: str  # "user" | "bot"
    text: str


@dataclass(frozen=True)
class EngineContext:
    """All an engine may see: this conversation only (never another participant's data)."""

    expecting: Expecting
    options: tuple[Option, ...] = ()
    history: tuple[HistoryLine, ...] = ()


@dataclass(frozen=True)
class Understanding:
    """An engine's reading of one message.

    - ``intent``: the main thing the person wants (``NONE`` when they simply answered).
    - ``slots``: raw values for form fields found in the text ("meu e-mail é x@y.com" → EMAIL), not
      yet validated; a value for a field other than the one asked is a correction or a head start.
    - ``option``: the id of an offered ``Option`` the person picked ("2", "o segundo", a button).
    - ``answer``: a reply, grounded in the event file, to a question in the message; ``None`` when
      there is no question or the engine does not know (the bot then offers the team).
    - ``question``: the message asks something about the event (answered or not).
    """

    intent: Intent = Intent.NONE
    slots: Mapping[FormField, str] = field(default_factory=dict)
    option: str | None = None
    answer: str | None = None
    question: bool = False
    engine: str = "offline"
