"""The greeting: names the event and says what the bot can do (pt-BR)."""

from __future__ import annotations

from datetime import date

from conversation.knowledge import EventKnowledge

MONTHS = (
    "janeiro", "fevereiro", "março", "abril", "maio", "junho",
    "julho", "agosto", "setembro", "outubro", "novembro", "dezembro",
)  # fmt: skip

CAPABILITIES = (
    "1️⃣ Programação e palestrantes",
    "2️⃣ Local, datas e como chegar",
    "3️⃣ Valores e lotes",
    "4️⃣ Fazer sua inscrição",
    "5️⃣ Dúvidas frequentes",
)


def format_period(start: date, end: date) -> str:
    """'18 a 20 de maio de 2027', '30 de abril a 2 de maio de 2027', '5 de maio de 2027'."""
    if start == end:
        return _full(end)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day} a {_full(end)}"
    if start.year == end.year:
        return f"{start.day} de {MONTHS[start.month - 1]} a {_full(end)}"
    return f"{_full(start)} a {_full(end)}"


def _full(d: date) -> str:
    return f"{d.day} de {MONTHS[d.month - 1]} de {d.year}"


def first_name(display_name: str | None) -> str | None:
    if not display_name:
        return None
    parts = display_name.strip().split()
    return parts[0] if parts else None


def greeting(knowledge: EventKnowledge, display_name: str | None, *, returning: bool) -> str:
    event, venue = knowledge.event, knowledge.venue
    name = first_name(display_name)
    if returning:
        hello = (
            f"Que bom falar com você de novo, {name}! 😊" if name else "Que bom falar com você de novo! 😊"
        )
    else:
        hello = f"Olá, {name}! 👋" if name else "Olá! 👋"
    period = format_period(event.starts_on, event.ends_on)
    lines = [
        f"{hello} Sou o assistente virtual do *{event.name}*, "
        f"de {period}, em {venue.name} ({venue.city}/{venue.uf}).",
        "",
        "Posso te ajudar com:",
        *CAPABILITIES,
        "",
        "É só escrever o que você precisa ou mandar o número da opção.",
    ]
    return "\n".join(lines)
