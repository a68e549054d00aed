"""FAQ by retrieval over the event file: the offline engine's way to answer questions.

Every answer is text taken from the knowledge file (an FAQ entry, a speaker, a topic page); a
question that matches nothing well enough gets ``None`` — "não sei" beats an invented answer.
Matching is on accent-folded words with typo tolerance (rapidfuzz) for longer words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz

from conversation.domain import answers
from conversation.domain.places import fold
from conversation.knowledge import EventKnowledge

_TOPIC_KEYWORDS: dict[str, tuple[str, ...]] = {
    "programme": (
        "programacao", "agenda", "palestra", "palestras", "palestrante", "palestrantes",
        "cronograma", "horario", "horarios", "atividades", "temas", "grade",
    ),
    "venue": ("onde", "local", "endereco", "lugar", "mapa", "onde vai ser", "onde e"),
    "dates": ("quando", "data", "datas", "que dia", "quais dias", "periodo"),
    "prices": (
        "valor", "valores", "preco", "precos", "quanto custa", "custa", "lote", "lotes",
        "quanto e", "pagar", "investimento", "taxa",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class _Doc:
    keywords: tuple[str, ...]
    render: Callable[[date], str]
    weight: float = 1.0


def _has_phrase(text: str, words: list[str], phrase: str) -> float:
    """1 for an exact word/phrase hit, 0.8 for a one-word typo hit, else 0."""
    if f" {phrase} " in f" {text} ":
        return 1.0
    typo_tolerant = " " not in phrase and len(phrase) >= 5
    if typo_tolerant and any(len(w) >= 4 and fuzz.ratio(w, phrase) >= 85 for w in words):
        return 0.8
    return 0.0


class KnowledgeIndex:
    def __init__(self, knowledge: EventKnowledge) -> None:
        k = knowledge
        docs: list[_Doc] = [
            _Doc(_TOPIC_KEYWORDS["programme"], lambda _: answers.programme(k)),
            _Doc(_TOPIC_KEYWORDS["venue"], lambda _: answers.venue(k), 0.9),
            _Doc(_TOPIC_KEYWORDS["dates"], lambda _: answers.dates(k), 0.9),
            _Doc(_TOPIC_KEYWORDS["prices"], lambda today: answers.prices(k, today)),
        ]
        for item in k.faq:
            words = tuple(fold(w) for w in item.keywords)
            docs.append(_Doc(words, _fixed(item.answer), 1.1))  # specific beats general
        for speaker in k.speakers:
            names = fold(speaker.name).split()
            keys = (fold(speaker.name), f"{names[0]} {names[-1]}", names[-1])
            docs.append(_Doc(keys, _fixed(self._speaker(k, speaker.id)), 1.2))
        self._docs = docs

    def answer(self, text: str, today: date) -> str | None:
        folded = fold(text)
        words = folded.split()
        best: tuple[float, _Doc] | None = None
        for doc in self._docs:
            score = sum(_has_phrase(folded, words, kw) for kw in doc.keywords) * doc.weight
            if score > 0 and (best is None or score > best[0]):
                best = (score, doc)
        return best[1].render(today) if best is not None and best[0] >= 0.8 else None

    @staticmethod
    def _speaker(k: EventKnowledge, speaker_id: str) -> str:
        speaker = next(s for s in k.speakers if s.id == speaker_id)
        where = ", ".join(p for p in (speaker.title, speaker.organization) if p)
        lines = [f"🎤 *{speaker.name}*" + (f" — {where}" if where else "")]
        if speaker.bio:
            lines.append(speaker.bio)
        for day in k.days:
            for s in day.sessions:
                if speaker_id in s.speakers:
                    room = f", {s.room}" if s.room else ""
                    lines.append(f"• {day.date:%d/%m} às {s.starts_at}{room}: {s.title}")
        return "\n".join(lines)


def _fixed(text: str) -> Callable[[date], str]:
    return lambda _: text
