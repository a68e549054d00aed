"""The one interface every language engine implements."""

from __future__ import annotations

from typing import Protocol

from conversation.domain.understanding import EngineContext, Understanding


class Engine(Protocol):
    name: str

    async def interpret(self, text: str, context: EngineContext) -> Understanding:
        """Read ``text`` in ``context``. May raise (network, timeout); callers fall back."""
        ...
