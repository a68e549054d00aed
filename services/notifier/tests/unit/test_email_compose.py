"""The registration e-mails: both parts, pt-BR text, the QR code inline and the calendar invite."""

import json
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from pathlib import Path

from icalendar import Calendar

from common.contracts import RegistrationStatus
from common.logging import configure_logging
from devkit import factories
from notifier.email.compose import QR_CID, compose, pt_br_dates
from notifier.email.event_facts import load_event_facts
from notifier.email.mailer import LogMailer

EVENT_FILE = Path(__file__).resolve().parents[4] / "services/conversation/src/conversation/data/event.yaml"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def facts():
    return load_event_facts(EVENT_FILE)


def parsed(message):
    return message_from_bytes(message.as_bytes(), policy=policy.default)


def test_confirmation_has_plain_html_inline_qr_and_ics():
    event = factories.registration_completed(code="AGR-7K3M9Q", email="ana@example.com")
    mail = parsed(compose(event, facts(), sender="inscricoes@example.com", now=NOW))
    assert mail["To"].addresses[0].addr_spec == "ana@example.com"
    assert "Inscrição confirmada" in mail["Subject"] and "AGR-7K3M9Q" in mail["Subject"]
    plain = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "AGR-7K3M9Q" in plain and "18 a 20 de maio de 2027" in plain and "Rio Verde" in plain
    assert f"cid:{QR_CID}" in html
    parts = {part.get_content_type(): part for part in mail.walk()}
    png = parts["image/png"]
    assert png["Content-ID"] == f"<{QR_CID}>"
    assert png.get_content().startswith(b"\x89PNG")
    invite = Calendar.from_ical(parts["text/calendar"].get_content())
    [vevent] = invite.walk("VEVENT")
    assert vevent.decoded("dtstart") == date(2027, 5, 18)
    assert vevent.decoded("dtend") == date(2027, 5, 21)
    assert "Rio Verde" in str(vevent["location"])


def test_waitlisted_and_cancelled_mails_carry_no_ticket():
    waitlisted = factories.registration_completed(status=RegistrationStatus.WAITLISTED)
    cancelled = factories.registration_cancelled()
    for event, words in ((waitlisted, "lista de espera"), (cancelled, "cancelada")):
        mail = parsed(compose(event, facts(), sender="x@example.com", now=NOW))
        assert words in mail.get_body(("plain",)).get_content()
        types = {part.get_content_type() for part in mail.walk()}
        assert "image/png" not in types and "text/calendar" not in types


def test_html_escapes_what_people_typed():
    event = factories.registration_completed(full_name="<b>Ana</b> Souza")
    html = parsed(compose(event, facts(), sender="x@example.com", now=NOW)).get_body(("html",)).get_content()
    assert "<b>Ana</b>" not in html and "&lt;b&gt;Ana&lt;/b&gt;" in html


def test_dates_in_portuguese():
    assert pt_br_dates(date(2027, 5, 18), date(2027, 5, 20)) == "18 a 20 de maio de 2027"
    assert pt_br_dates(date(2027, 5, 31), date(2027, 6, 2)) == "31 de maio a 2 de junho de 2027"
    assert pt_br_dates(date(2027, 3, 1), date(2027, 3, 1)) == "1 de março de 2027"


def test_accented_quoted_names_and_subjects_survive_the_headers():
    event = factories.registration_completed(code="AGR-7K3M9Q", full_name='José "Zé" da Silva, Jr')
    mail = parsed(compose(event, facts(), sender="Inscrições <inscricoes@example.com>", now=NOW))
    [to] = mail["To"].addresses
    assert (to.display_name, to.addr_spec) == ('José "Zé" da Silva, Jr', event.email)
    assert str(mail["Subject"]).startswith("Inscrição confirmada — ")
    assert mail["From"].addresses[0].display_name == "Inscrições"
    assert mail["Message-ID"] == f"<{event.message_id}@congress-bot>"


async def test_without_smtp_the_whole_mail_is_logged_readably(restore_logging, capsys):
    configure_logging("notifier", "INFO", "json")
    event = factories.registration_completed(full_name="José Souza")
    async with LogMailer().session() as session:
        await session.send(compose(event, facts(), sender="x@example.com", now=NOW))
    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["event"] == "email.logged_not_sent"
    assert line["to"] == f"José Souza <{event.email}>"
    assert line["subject"].startswith("Inscrição confirmada — ")
