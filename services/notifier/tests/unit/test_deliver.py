import pytest

from common.contracts import AddressKind, ReplyAddress, SendWhatsAppMessage
from common.idempotency import InMemoryClaims
from devkit import factories
from notifier.errors import SendFailed
from notifier.graph import message_payload
from notifier.service import deliver


def command(to: ReplyAddress | None = None) -> SendWhatsAppMessage:
    return factories.send_whatsapp_message(to=to or ReplyAddress(kind=AddressKind.WA_ID, id="5561999999999"))


class FlakySend:
    def __init__(self, failures: list[SendFailed]) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self, cmd: SendWhatsAppMessage) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return f"wamid.{self.calls}"


async def run(cmd, ledger, send, *, redelivered=False, attempts=4):
    return await deliver(
        cmd, ledger=ledger, send=send, redelivered=redelivered, attempts=attempts, backoff_max_s=0.01
    )


async def test_sends_once_even_when_the_command_arrives_twice():
    ledger, send, cmd = InMemoryClaims(), FlakySend([]), command()
    assert await run(cmd, ledger, send) == "wamid.1"
    assert await run(cmd, ledger, send) is None
    assert await run(cmd, ledger, send, redelivered=True) is None
    assert send.calls == 1


async def test_transient_failures_are_retried_then_succeed():
    failures = [SendFailed("503", retryable=True), SendFailed("429", retryable=True, retry_after_s=0)]
    ledger, send = InMemoryClaims(), FlakySend(failures)
    assert await run(command(), ledger, send) == "wamid.3"
    assert send.calls == 3


async def test_permanent_failure_is_not_retried_and_releases_the_claim():
    ledger, send, cmd = InMemoryClaims(), FlakySend([SendFailed("400 bad param", retryable=False)]), command()
    with pytest.raises(SendFailed, match="bad param"):
        await run(cmd, ledger, send)
    assert send.calls == 1
    assert ledger.state == {}  # a later redelivery may try again


async def test_gives_up_after_the_configured_attempts():
    ledger, send = InMemoryClaims(), FlakySend([SendFailed("503", retryable=True)] * 10)
    with pytest.raises(SendFailed):
        await run(command(), ledger, send, attempts=3)
    assert send.calls == 3


async def test_in_flight_claim_is_taken_over_only_by_a_redelivery():
    ledger, send, cmd = InMemoryClaims(), FlakySend([]), command()
    await ledger.claim(str(cmd.message_id))  # a consumer claimed it, then died mid-send
    assert await run(cmd, ledger, send) is None
    assert await run(cmd, ledger, send, redelivered=True) == "wamid.1"


def test_payload_for_phone_user_uses_to():
    payload = message_payload(command())
    assert payload["to"] == "5561999999999"
    assert payload["messaging_product"] == "whatsapp"
    assert payload["type"] == "text"
    assert payload["text"] == {"body": "Olá!", "preview_url": False}
    assert "recipient" not in payload


def test_payload_for_username_user_uses_recipient():
    payload = message_payload(command(ReplyAddress(kind=AddressKind.BSUID, id="CO.104")))
    assert payload["recipient"] == "CO.104"
    assert "to" not in payload
