"""Registration e-mails through a real SMTP server (aiosmtpd) and the admin view of the log."""

import asyncio
import uuid
from email import message_from_bytes, policy

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import AsyncMessage

from common.contracts import RegistrationStatus
from devkit import factories, infra
from notifier.email.compose import QR_CID

pytestmark = pytest.mark.integration


class Inbox(AsyncMessage):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []
        self.envelopes: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(list(envelope.rcpt_tos))
        return await super().handle_DATA(server, session, envelope)

    async def handle_message(self, message) -> None:
        self.messages.append(message_from_bytes(message.as_bytes(), policy=policy.default))


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=infra.free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


async def wait_for(predicate, timeout=15):
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 (polling what a server thread received)
            await asyncio.sleep(0.05)


async def test_confirmation_arrives_with_both_parts_the_qr_and_the_invite(notifier_factory, smtp, graph):
    controller, inbox = smtp
    notifier = await notifier_factory(
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_starttls=False,
        smtp_from="inscricoes@example.com",
    )
    event = factories.registration_completed(code="AGR-QR1234", email="ana.souza@example.com")
    await notifier.publish(event)
    await notifier.publish(event)  # a redelivered event: still one e-mail
    await wait_for(lambda: inbox.messages)
    row = await notifier.row(event.message_id, lambda r: r.status == "sent")
    await asyncio.sleep(0.5)
    [mail] = inbox.messages
    assert inbox.envelopes == [["ana.souza@example.com"]]
    assert mail["Subject"].startswith("Inscrição confirmada") and "AGR-QR1234" in mail["Subject"]
    assert mail["From"] == "inscricoes@example.com"
    assert "AGR-QR1234" in mail.get_body(("plain",)).get_content()
    assert f"cid:{QR_CID}" in mail.get_body(("html",)).get_content()
    types = [part.get_content_type() for part in mail.walk()]
    assert {"text/plain", "text/html", "image/png", "text/calendar"} <= set(types)
    assert row.channel == "email" and row.kind == "email:confirmed" and row.attempts == 1
    assert graph.messages == []  # registered in the chat: the chat already confirmed it


async def test_promotion_mails_and_tells_the_chat(notifier_factory, smtp, graph):
    controller, inbox = smtp
    notifier = await notifier_factory(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_starttls=False)
    event = factories.registration_promoted(status=RegistrationStatus.CONFIRMED)
    await notifier.publish(event)
    await wait_for(lambda: inbox.messages and graph.messages)
    assert "Vaga confirmada" in inbox.messages[0]["Subject"]
    assert "saiu da lista de espera" in graph.messages[0].text


async def test_an_unreachable_smtp_server_is_retried_then_given_up_not_lost(notifier_factory):
    notifier = await notifier_factory(
        smtp_host="127.0.0.1", smtp_port=infra.free_port(), notifier_retry_delays_s="0.2,0.2"
    )
    event = factories.registration_cancelled()
    await notifier.publish(event)
    row = await notifier.row(event.message_id, lambda r: r.status == "failed_permanent", timeout=20)
    assert row.attempts == 3 and "gave up after 3 attempts" in (row.last_error or "")


async def test_without_smtp_the_mail_is_written_to_the_log(notifier_factory, capsys):
    notifier = await notifier_factory()
    event = factories.registration_completed(code="AGR-LOG123")
    await notifier.publish(event)
    row = await notifier.row(event.message_id, lambda r: r.status == "sent")
    assert row.provider_message_id.startswith(f"<{event.message_id}@")


async def test_the_admin_view_lists_by_conversation_and_status(notifier_factory, graph):
    notifier = await notifier_factory(notifier_admin_token="test-admin-token")
    key = f"meta:1122334455667:55{uuid.uuid4().int % 10**11:011d}"
    commands = [factories.send_whatsapp_message(conversation_key=key) for _ in range(3)]
    for command in commands:
        await notifier.publish(command)
    for command in commands:
        await notifier.row(command.message_id, lambda r: r.status == "sent")
    transport = httpx.ASGITransport(app=notifier.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        assert (await client.get("/deliveries")).status_code == 401
        bad = await client.get("/deliveries", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 403
        auth = {"Authorization": "Bearer test-admin-token"}
        page = (
            await client.get("/deliveries", params={"conversation_key": key, "limit": 2}, headers=auth)
        ).json()
        assert len(page["items"]) == 2 and page["next_offset"] == 2
        rest = await client.get("/deliveries", params={"conversation_key": key, "offset": 2}, headers=auth)
        assert len(rest.json()["items"]) == 1 and rest.json()["next_offset"] is None
        sent = await client.get(
            "/deliveries", params={"conversation_key": key, "status": "sent"}, headers=auth
        )
        assert {item["id"] for item in sent.json()["items"]} == {str(c.message_id) for c in commands}
        one = await client.get(f"/deliveries/{commands[0].message_id}", headers=auth)
        assert one.json()["provider"] == "meta" and one.json()["attempts"] == 1
