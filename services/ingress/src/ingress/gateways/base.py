"""What every gateway adapter does: authenticate raw bytes, turn a payload into normalised events.

An adapter is pure (no I/O): ``webhooks.receive`` does the reading, publishing and answering.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias, TypeVar

from pydantic import BaseModel, ValidationError

from common.contracts import HumanActivityDetected, MessageReceived, MessageStatusChanged, Provider

Event: TypeAlias = MessageReceived | MessageStatusChanged | HumanActivityDetected


@dataclass
class Normalised:
    events: list[Event] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # understood, deliberately not published
    unrecognised: list[str] = field(default_factory=list)  # not understood: the body gets parked


@dataclass(frozen=True)
class Delivery:
    """One webhook request as received: what authentication and ids are computed from."""

    headers: Mapping[str, str]
    body: bytes


class Gateway(Protocol):
    @property
    def provider(self) -> Provider: ...

    def authenticate(self, delivery: Delivery) -> None:
        """Raise ``AuthenticationError`` (401) or ``ForbiddenError`` (403); constant-time."""

    def normalise(self, payload: Any, delivery: Delivery) -> Normalised:
        """Never raises on bad input: what it cannot read goes to ``unrecognised``."""


Item = TypeVar("Item", bound=BaseModel)


def parse_each(raws: list[Any], model: type[Item], out: Normalised, use: Callable[[Item], None]) -> None:
    """Validate and use each item on its own: one item we cannot read costs only itself."""
    for raw in raws:
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            out.unrecognised.append(f"{model.__name__.lower()}: {first_error(exc)}")
            continue
        try:
            use(item)
        except (ValidationError, ValueError, TypeError, KeyError, AttributeError) as exc:
            out.unrecognised.append(f"{model.__name__.lower()}: {exc!r}"[:500])


def first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "body"
    return f"{where}: {error['msg']}"
