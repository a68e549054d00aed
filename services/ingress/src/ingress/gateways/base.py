"""What every gateway adapter does: authenticate raw bytes, turn a payload into normalised events.

An adapter is pure (no I/O): ``webhooks.receive`` does the reading, publishing and answering.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

from common.contracts import HumanActivityDetected, MessageReceived, MessageStatusChanged, Provider

Event: TypeAlias = MessageReceived | MessageStatusChanged | HumanActivityDetected


@dataclass
class Normalised:
    events: list[Event] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # understood, deliberately not published
    unrecognised: list[str] = field(default_factory=list)  # not understood: the body gets parked


class Gateway(Protocol):
    @property
    def provider(self) -> Provider: ...

    def authenticate(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise ``AuthenticationError`` (401) or ``ForbiddenError`` (403); constant-time."""

    def normalise(self, payload: Any) -> Normalised:
        """Never raises on bad input: what it cannot read goes to ``unrecognised``."""
