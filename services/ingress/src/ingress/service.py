"""Use case: take in normalised events — dedupe, publish with confirms, park what is not understood."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from common.contracts import (
    Contract,
    HumanActivityDetected,
    MessageReceived,
    MessageStatusChanged,
    Provider,
    WebhookParked,
)
from common.logging import get_logger
from ingress.admission import Admission, Verdict
from ingress.errors import Unavailable
from ingress.gateways.base import Event
from ingress.metrics import IngressMetrics

Publish = Callable[[Contract], Awaitable[object]]

log = get_logger(__name__)


@dataclass
class Accepted:
    published: int = 0
    duplicates: int = 0
    rate_limited: int = 0


def dedupe_key(event: Event) -> str:
    """The provider's identity of the event: the same key on every re-delivery."""
    base = f"{event.provider.value}:{event.business_id}:{event.provider_message_id}"
    if isinstance(event, MessageStatusChanged):
        return f"status:{base}:{event.status.value}"
    if isinstance(event, HumanActivityDetected):
        return f"echo:{base}"
    return f"message:{base}"


@dataclass
class Intake:
    admission: Admission
    publish: Publish
    metrics: IngressMetrics

    async def accept(self, events: list[Event]) -> Accepted:
        """Publish each event not seen before; raise ``Unavailable`` if one is not confirmed.

        Events published before a failure stay remembered, so the provider's retry of the whole
        batch publishes only what is missing.
        """
        result = Accepted()
        for event in events:
            outcome = await self._accept_one(event)
            setattr(result, outcome, getattr(result, outcome) + 1)
        return result

    async def _accept_one(self, event: Event) -> str:
        key = dedupe_key(event)
        kind = event.ROUTING_KEY
        # Only user messages count against their sender's rate limit (not receipts or echoes).
        sender = event.conversation_key if isinstance(event, MessageReceived) else None
        try:
            verdict = await self.admission.admit(key, sender)
        except Exception as exc:
            log.warning("dedupe.unavailable", error=repr(exc))
            raise Unavailable("the dedupe store did not answer; retry later") from exc
        if verdict is Verdict.RATE_LIMITED:  # remembered as handled: re-deliveries are duplicates
            self.metrics.rate_limited.labels(event.provider.value).inc()
            log.warning(
                "message.rate_limited",
                conversation_key=event.conversation_key,
                provider_message_id=event.provider_message_id,
            )
            return "rate_limited"
        if verdict is Verdict.DONE:
            self.metrics.events.labels(event.provider.value, kind, "duplicate").inc()
            log.info("event.duplicate_ignored", type=kind, provider_message_id=event.provider_message_id)
            return "duplicates"
        if verdict is Verdict.IN_FLIGHT:
            # Another request (a provider retry that overtook a slow confirm, or another replica)
            # is publishing it: its publish may still fail, so a 200 here could lose the message.
            self.metrics.events.labels(event.provider.value, kind, "in_flight").inc()
            log.info("event.in_flight", type=kind, provider_message_id=event.provider_message_id)
            raise Unavailable("this event is being published by another request; retry later")
        try:
            await self.publish(event)
        except Exception as exc:
            log.warning("event.publish_failed", type=kind, error=repr(exc))
            await _quietly(self.admission.release(key))  # else the claim expires and frees itself
            raise Unavailable("the broker did not confirm the message; retry later") from exc
        # Published: answer 200 even if this fails (a re-delivery is then deduped downstream).
        await _quietly(self.admission.complete(key))
        self.metrics.events.labels(event.provider.value, kind, "published").inc()
        log.info(
            "event.accepted",
            type=kind,
            provider_message_id=event.provider_message_id,
            message_id=str(event.message_id),
            kind=event.kind.value if isinstance(event, MessageReceived) else None,
        )
        return "published"

    async def park(
        self, provider: Provider, body: bytes, reasons: list[str], content_type: str | None
    ) -> None:
        """Keep an authenticated body we could not understand, with why (never a silent drop)."""
        parked = WebhookParked(
            provider=provider,
            reason="; ".join(reasons)[:2000],
            content_type=content_type,
            body=body.decode("utf-8", errors="replace"),
        )
        try:
            await self.publish(parked)
        except Exception as exc:
            log.warning("webhook.park_failed", error=repr(exc))
            raise Unavailable("could not park the unrecognised webhook; retry later") from exc
        self.metrics.parked.labels(provider.value).inc()
        log.warning(
            "webhook.parked", provider=provider.value, reasons=reasons, message_id=str(parked.message_id)
        )


async def _quietly(step: Awaitable[object]) -> None:
    try:
        await step
    except Exception as exc:
        log.warning("dedupe.unavailable", error=repr(exc))
