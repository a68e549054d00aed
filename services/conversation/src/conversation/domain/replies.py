"""What the machine says: a text, optionally with choices (buttons/list, or numbered text)."""

from __future__ import annotations

from dataclasses import dataclass

from conversation.domain.understanding import Option


@dataclass(frozen=True)
class Reply:
    text: str
    options: tuple[Option, ...] = ()
    button: str = "Ver opções"  # the label that opens a list of options


YES = Option("yes", "Sim")
NO = Option("no", "Não")
YES_NO = (YES, NO)
