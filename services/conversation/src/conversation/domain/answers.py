"""Answers about the event, rendered from the knowledge file only (pt-BR, WhatsApp formatting)."""

from __future__ import annotations

from datetime import date

from conversation.domain.greeting import format_period
from conversation.knowledge import EventKnowledge

WEEKDAYS = ("segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo")


def _money(amount: float) -> str:
    if amount == 0:
        return "gratuito"
    whole, cents = f"{amount:,.2f}".split(".")
    return f"R$ {whole.replace(',', '.')},{cents}"


def _day(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d} ({WEEKDAYS[d.weekday()]})"


def programme(knowledge: EventKnowledge) -> str:
    speakers = {s.id: s.name for s in knowledge.speakers}
    lines = [f"🗓️ *Programação do {knowledge.event.short_name}*"]
    for day in knowledge.days:
        lines += ["", f"*{_day(day.date)} — {day.title}*"]
        for s in day.sessions:
            if s.kind in {"intervalo", "credenciamento"}:
                continue
            names = ", ".join(speakers[ref] for ref in s.speakers)
            lines.append(f"• {s.starts_at} {s.title}" + (f" — {names}" if names else ""))
    lines += ["", "Quer saber de um palestrante ou de uma atividade? É só perguntar."]
    return "\n".join(lines)


def venue(knowledge: EventKnowledge) -> str:
    event, place = knowledge.event, knowledge.venue
    lines = [
        f"📍 *{place.name}*",
        f"{place.address} — {place.city}/{place.uf}"
        + (f", CEP {place.postal_code}" if place.postal_code else ""),
        f"🗓️ {format_period(event.starts_on, event.ends_on)}",
    ]
    if place.maps_url:
        lines.append(f"Mapa: {place.maps_url}")
    if place.how_to_get_there:
        lines += ["", f"*Como chegar:* {place.how_to_get_there}"]
    if place.parking:
        lines += ["", f"*Estacionamento:* {place.parking}"]
    return "\n".join(lines)


def prices(knowledge: EventKnowledge, today: date) -> str:
    labels = {p.id: p.label for p in knowledge.profiles}
    current = next((lot for lot in knowledge.prices.lots if lot.valid_until >= today), None)
    if current is None:
        return "As inscrições deste evento já foram encerradas."
    lines = [f"💰 *Valores — {current.name}* (até {current.valid_until:%d/%m/%Y})"]
    lines += [f"• {labels[item.profile]}: {_money(item.amount)}" for item in current.items]
    later = [lot for lot in knowledge.prices.lots if lot.valid_until > current.valid_until]
    if later:
        lines += [
            "",
            "Depois: " + "; ".join(f"{lot.name} até {lot.valid_until:%d/%m}" for lot in later) + ".",
        ]
    lines += ["", *(f"ℹ️ {note}" for note in knowledge.prices.notes[:3])]
    return "\n".join(lines)


def faq_index(knowledge: EventKnowledge) -> str:
    lines = ["❓ *Dúvidas frequentes* — pergunte do seu jeito, por exemplo:"]
    lines += [f"• {item.question}" for item in knowledge.faq]
    return "\n".join(lines)


def contact(knowledge: EventKnowledge) -> str:
    c = knowledge.event.contact
    parts = [p for p in (c.email, c.whatsapp, c.phone) if p]
    return "Contato da organização: " + " · ".join(parts) if parts else ""


def dates(knowledge: EventKnowledge) -> str:
    event, place = knowledge.event, knowledge.venue
    period = format_period(event.starts_on, event.ends_on)
    return f"🗓️ O {event.name} acontece de {period}, em {place.name} ({place.city}/{place.uf})."
