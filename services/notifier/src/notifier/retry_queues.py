"""Retries through the broker, not sleeps in a consumer: one TTL queue per delay tier.

- A failed message is re-published (same body, type, id and partition key; attempt counted in
  ``x-retry-attempt``) to the topic exchange ``notifier.retry`` with routing key
  ``<tier>.<target>``, e.g. ``5s.notifier.inbox``; the tier queue ``notifier.retry.5s`` (bound with
  ``5s.#``) holds it for its TTL and then dead-letters it, routing key unchanged, to the topic
  exchange ``notifier.retried``, where the target is bound with ``*.<target>``: the notifier inbox
  (back to its conversation's shard, by the partition-key header) or an e-mail queue.
- Tier queues are quorum queues with at-least-once dead-lettering, so a message is not lost
  between the tier and its target. Each message also gets an ``expiration`` up to ``jitter`` below
  the tier's TTL: messages leave a queue only from its head, so a retried burst spreads over
  [TTL·(1-jitter), TTL] instead of returning all at once.
- The tiers depend on ``NOTIFIER_RETRY_DELAYS_S``; a queue's name carries its TTL, so changing the
  delays adds queues and never conflicts with the old ones (delete those once empty).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from faststream.rabbit import ExchangeType, RabbitBroker

RETRY_EXCHANGE = "notifier.retry"
RETRIED_EXCHANGE = "notifier.retried"
ATTEMPT_HEADER = "x-retry-attempt"
# Headers RabbitMQ adds on dead-lettering: not copied, or it would see a cycle and drop the message.
_BROKER_HEADERS = ("x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason")


def tier_name(delay_s: float) -> str:
    ms = round(delay_s * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


@dataclass(frozen=True)
class RetryTiers:
    delays_s: tuple[float, ...]
    jitter: float = 0.2

    @property
    def shortest(self) -> float:
        """Where a message waits while the delivery log is unreachable (``outages``)."""
        return min(self.delays_s)

    def at_least(self, delay_s: float) -> float:
        """The shortest tier of at least ``delay_s`` (the longest if none is): a waiter that
        needs longer goes round again."""
        return min((d for d in self.delays_s if d >= delay_s), default=max(self.delays_s))

    def queue_name(self, delay_s: float) -> str:
        return f"notifier.retry.{tier_name(delay_s)}"

    async def declare(self, broker: RabbitBroker, targets: Sequence[tuple[str, bool]]) -> None:
        """Declare the exchanges and tiers, and bind each target: (name, is_exchange)."""
        channel = await broker.config.channel_manager.get_channel()
        retry = await channel.declare_exchange(RETRY_EXCHANGE, ExchangeType.TOPIC.value, durable=True)
        retried = await channel.declare_exchange(RETRIED_EXCHANGE, ExchangeType.TOPIC.value, durable=True)
        for delay in self.delays_s:
            queue = await channel.declare_queue(
                self.queue_name(delay),
                durable=True,
                arguments={
                    "x-queue-type": "quorum",
                    "x-message-ttl": round(delay * 1000),
                    "x-dead-letter-exchange": RETRIED_EXCHANGE,
                    "x-dead-letter-strategy": "at-least-once",
                    "x-overflow": "reject-publish",  # required by at-least-once dead-lettering
                },
            )
            await queue.bind(retry, routing_key=f"{tier_name(delay)}.#")
        for name, is_exchange in targets:
            if is_exchange:
                target = await channel.get_exchange(name, ensure=False)
                await target.bind(retried, routing_key=f"*.{name}")
            else:
                await (await channel.get_queue(name, ensure=False)).bind(retried, routing_key=f"*.{name}")

    async def schedule(
        self,
        broker: RabbitBroker,
        message: AbstractIncomingMessage,
        *,
        target: str,
        delay_s: float,
        attempt: int,
    ) -> None:
        """Publish a copy of ``message`` to wait ``delay_s`` (a tier) before going back to ``target``."""
        headers = {k: v for k, v in (message.headers or {}).items() if k not in _BROKER_HEADERS}
        headers[ATTEMPT_HEADER] = attempt
        ttl_ms = round(delay_s * 1000)
        copy = aio_pika.Message(
            message.body,
            headers=headers,
            content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            type=message.type,
            app_id=message.app_id,
            expiration=ttl_ms / 1000 * (1 - self.jitter * random.random()),  # noqa: S311 (not crypto)
        )
        channel = await broker.config.channel_manager.get_channel()  # confirmed; unroutable raises
        exchange = await channel.get_exchange(RETRY_EXCHANGE, ensure=False)
        await exchange.publish(copy, routing_key=f"{tier_name(delay_s)}.{target}", mandatory=True)
