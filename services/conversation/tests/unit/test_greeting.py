from datetime import date

import pytest

from conversation.domain.greeting import first_name, format_period
from conversation.domain.prompts import greeting


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2027, 5, 18), date(2027, 5, 20), "18 a 20 de maio de 2027"),
        (date(2027, 4, 30), date(2027, 5, 2), "30 de abril a 2 de maio de 2027"),
        (date(2027, 12, 31), date(2028, 1, 1), "31 de dezembro de 2027 a 1 de janeiro de 2028"),
        (date(2027, 3, 5), date(2027, 3, 5), "5 de março de 2027"),
    ],
)
def test_period_in_portuguese(start, end, expected):
    assert format_period(start, end) == expected


@pytest.mark.parametrize(("name", "expected"), [("Maria da Silva", "Maria"), ("  ", None), (None, None)])
def test_first_name(name, expected):
    assert first_name(name) == expected


def test_greeting_names_the_event_its_dates_and_place(knowledge):
    text = greeting(knowledge, "Maria da Silva", returning=False)
    event = knowledge.event
    assert text.startswith("Olá, Maria!")
    assert event.name in text
    assert format_period(event.starts_on, event.ends_on) in text
    assert f"{knowledge.venue.city}/{knowledge.venue.uf}" in text


def test_returning_user_is_welcomed_back_and_anonymous_user_greeted(knowledge):
    assert "de novo" in greeting(knowledge, "Zé", returning=True)
    assert greeting(knowledge, None, returning=False).startswith("Olá! 👋")
