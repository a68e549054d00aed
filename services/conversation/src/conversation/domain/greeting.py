"""Dates and names as the bot writes them in pt-BR."""

from __future__ import annotations

from datetime import date

MONTHS = (
    "janeiro", "fevereiro", "março", "abril", "maio", "junho",
    "julho", "agosto", "setembro", "outubro", "novembro", "dezembro",
)  # fmt: skip


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
