"""Use case: accept normalised messages — dedupe, publish with confirms, report what happened."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from common.contracts import MessageReceived
from common.idempotency import Claim, Claims
from common.logging import get_logger
from ingress.errors import Unavailable

Publish = Callable[[MessageReceived], Awaitable[object]]

log = get_logger(__name__)


@dataclass
class Accepted:
    published: int = 0
    duplicates: int = 0


async def accept(messages: list[MessageReceived], dedupe: Claims, publish: Publish) -> Accepted:
    """Publish each message not seen before; raise ``Unavailable`` if one is not confirmed.

    Messages published before the failure stay confirmed, so the provider's retry of the whole
    batch publishes only what is missing.
    """
    result = Accepted()
    for message in messages:
        key = f"{message.provider.value}:{message.business_id}:{message.provider_message_id}"
        try:
            claim = await dedupe.claim(key)
        except Exception as exc:
            log.warning("dedupe.unavailable", error=repr(exc))
            raise Unavailable("the dedupe store did not answer; retry later") from exc
        if claim is not Claim.ACQUIRED:  # published already, or being published right now
            result.duplicates += 1
            log.info("message.duplicate_ignored", provider_message_id=message.provider_message_id)
            continue
        try:
            await publish(message)
        except Exception as exc:
            log.warning("message.publish_failed", error=repr(exc))
            await _quietly(dedupe.release(key))  # else the claim expires and frees itself
            raise Unavailable("the broker did not confirm the message; retry later") from exc
        # Published: answer 200 even if this fails (a re-delivery is then deduped downstream).
        await _quietly(dedupe.complete(key))
        result.published += 1
        log.info(
            "message.accepted",
            provider_message_id=message.provider_message_id,
            message_id=str(message.message_id),
            kind=message.kind.value,
        )
    return result


async def _quietly(step: Awaitable[object]) -> None:
    try:
        await step
    except Exception as exc:
        log.warning("dedupe.unavailable", error=repr(exc))
