"""The RabbitMQ topology on one page, and the one way services publish and subscribe.

- One durable topic exchange, ``congress``, carries every contract under its routing key.
- Each consumer queue is ``<consumer>.<routing key>``: a durable quorum queue with an explicit
  delivery limit and a dead-letter exchange, so a message that fails (FastStream rejects without
  requeue when a handler raises) or keeps crashing its consumer lands in ``<queue>.dlq`` instead of
  vanishing.
- Every service declares the whole topology at start (declarations are idempotent), so a message
  published before its consumer ever ran waits in its queue instead of being unroutable.
- Publishing is persistent, mandatory and confirmed; an unroutable or unconfirmed publish raises.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aio_pika
from faststream.middlewares import AckPolicy
from faststream.rabbit import (
    Channel,
    ExchangeType,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitQueue,
)
from faststream.rabbit.opentelemetry import RabbitTelemetryMiddleware
from faststream.rabbit.prometheus import RabbitPrometheusMiddleware
from opentelemetry import propagate, trace

from common.contracts import (
    Contract,
    HumanActivityDetected,
    MessageReceived,
    MessageStatusChanged,
    SendWhatsAppMessage,
    WebhookParked,
)

if TYPE_CHECKING:
    from faststream.rabbit.publisher import RabbitPublisher
    from faststream.rabbit.subscriber import RabbitSubscriber
    from opentelemetry.sdk.trace import TracerProvider
    from prometheus_client import CollectorRegistry

    from common.settings import ServiceSettings

EXCHANGE = RabbitExchange("congress", type=ExchangeType.TOPIC, durable=True)
DEAD_LETTER_EXCHANGE = RabbitExchange("congress.dlx", type=ExchangeType.TOPIC, durable=True)

# RabbitMQ 3.10 has no default delivery limit and 4.x drops past 20 without a DLX: be explicit.
DELIVERY_LIMIT = 5


@dataclass(frozen=True)
class ConsumerQueue:
    """A consumer's durable queue for one contract."""

    consumer: str
    contract: type[Contract]

    @property
    def name(self) -> str:
        return f"{self.consumer}.{self.contract.ROUTING_KEY}"

    @property
    def dead_letter_name(self) -> str:
        return f"{self.name}.dlq"

    def queue(self) -> RabbitQueue:
        return RabbitQueue(
            self.name,
            queue_type=QueueType.QUORUM,
            durable=True,
            routing_key=self.contract.ROUTING_KEY,
            arguments={
                "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
                "x-dead-letter-routing-key": self.name,
                "x-delivery-limit": DELIVERY_LIMIT,
            },
        )

    def dead_letter_queue(self) -> RabbitQueue:
        return RabbitQueue(
            self.dead_letter_name,
            queue_type=QueueType.QUORUM,
            durable=True,
            routing_key=self.name,
        )


# Who consumes what. Every contract has at least one queue: publishes are mandatory.
CONVERSATION_MESSAGES = ConsumerQueue("conversation", MessageReceived)
CONVERSATION_HUMAN_ACTIVITY = ConsumerQueue("conversation", HumanActivityDetected)
NOTIFIER_WHATSAPP_SENDS = ConsumerQueue("notifier", SendWhatsAppMessage)
NOTIFIER_DELIVERY_STATUSES = ConsumerQueue("notifier", MessageStatusChanged)
# A parking lot, not a service: webhooks nobody could understand wait here for a person.
OPS_PARKED_WEBHOOKS = ConsumerQueue("ops", WebhookParked)

TOPOLOGY: tuple[ConsumerQueue, ...] = (
    CONVERSATION_MESSAGES,
    CONVERSATION_HUMAN_ACTIVITY,
    NOTIFIER_WHATSAPP_SENDS,
    NOTIFIER_DELIVERY_STATUSES,
    OPS_PARKED_WEBHOOKS,
)
CONTRACTS: tuple[type[Contract], ...] = (
    MessageReceived,
    MessageStatusChanged,
    HumanActivityDetected,
    WebhookParked,
    SendWhatsAppMessage,
)


def create_broker(
    settings: ServiceSettings,
    *,
    service: str,
    tracer_provider: TracerProvider,
    registry: CollectorRegistry,
    broker_metrics: bool = True,
) -> RabbitBroker:
    """A broker whose defaults do not lose messages (see the module docstring).

    ``broker_metrics`` adds FastStream's per-message Prometheus histograms; a service on a hot path
    that counts its own events may leave them out (they cost ~15 % of ingress's CPU).
    """
    middlewares: list[Any] = [RabbitTelemetryMiddleware(tracer_provider=tracer_provider)]
    if broker_metrics:
        middlewares.append(RabbitPrometheusMiddleware(registry=registry, app_name=service))
    return RabbitBroker(
        settings.amqp_url,
        fail_fast=True,
        app_id=service,
        graceful_timeout=settings.graceful_timeout_s,
        ack_policy=AckPolicy.REJECT_ON_ERROR,
        default_channel=Channel(
            prefetch_count=settings.broker_prefetch,
            publisher_confirms=True,
            on_return_raises=True,
        ),
        middlewares=middlewares,
        # Through our JSON logging; per-message access lines at DEBUG, handler errors at ERROR.
        logger=logging.getLogger(f"faststream.{service}"),
        log_level=logging.DEBUG,
        description=f"congress-bot {service}",
    )


def publisher(broker: RabbitBroker, contract: type[Contract], *, timeout: float) -> RabbitPublisher:
    """A persistent, mandatory, confirmed publisher of one contract (documented in AsyncAPI)."""
    return broker.publisher(
        exchange=EXCHANGE,
        routing_key=contract.ROUTING_KEY,
        persist=True,
        mandatory=True,
        timeout=timeout,
        schema=contract,
        message_type=contract.message_type(),
        title=f"{contract.ROUTING_KEY}:publish",
        description=contract.__doc__,
    )


class ConfirmedPublisher:
    """Publishes contracts through aio-pika on the broker's confirmed default channel.

    The same message a FastStream publisher sends (persistent, mandatory, confirmed; JSON body,
    ``type``, ``message_id``, ``correlation_id``, ``app_id``, ``traceparent``) without FastStream's
    per-publish middleware chain, which on a hot path costs more than the publish itself. It opens
    one PRODUCER span per message (FastStream opens two) whose context the consumer continues.
    An unroutable, nacked or unconfirmed (``timeout``) publish raises. Keep declaring the contracts
    with ``publisher`` too: that is what documents them in AsyncAPI.
    """

    def __init__(self, broker: RabbitBroker, *, app_id: str, timeout: float, tracer: trace.Tracer) -> None:
        self._broker = broker
        self._app_id = app_id
        self._timeout = timeout
        self._tracer = tracer

    async def publish(self, event: Contract) -> None:
        # Cached by FastStream after the first call; re-resolved after a reconnection, as it does.
        exchange = await self._broker.declare_exchange(EXCHANGE)
        message_id = str(event.message_id)
        with self._tracer.start_as_current_span(
            f"{EXCHANGE.name}.{event.ROUTING_KEY} publish",
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.operation": "publish",
                "messaging.destination.name": EXCHANGE.name,
                "messaging.rabbitmq.destination.routing_key": event.ROUTING_KEY,
                "messaging.message.id": message_id,
                "messaging.message.conversation_id": message_id,
            },
        ):
            headers: dict[str, Any] = {}
            propagate.inject(headers)
            message = aio_pika.Message(
                event.model_dump_json().encode(),
                headers=headers,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=message_id,
                correlation_id=message_id,
                type=event.message_type(),
                app_id=self._app_id,
                timestamp=datetime.now(UTC),
            )
            await exchange.publish(
                message, routing_key=event.ROUTING_KEY, mandatory=True, timeout=self._timeout
            )


def subscriber(broker: RabbitBroker, queue: ConsumerQueue) -> RabbitSubscriber:
    """Subscribe to a consumer queue; ack after the handler returns, dead-letter if it raises."""
    return broker.subscriber(
        queue.queue(),
        EXCHANGE,
        ack_policy=AckPolicy.REJECT_ON_ERROR,
        title=f"{queue.name}:consume",
    )


async def declare_topology(broker: RabbitBroker) -> None:
    """Declare exchanges, every consumer queue and its dead-letter queue (idempotent)."""
    await broker.declare_exchange(EXCHANGE)
    dlx = await broker.declare_exchange(DEAD_LETTER_EXCHANGE)
    for consumer_queue in TOPOLOGY:
        queue = await broker.declare_queue(consumer_queue.queue())
        await queue.bind(EXCHANGE.name, routing_key=consumer_queue.contract.ROUTING_KEY)
        dead = await broker.declare_queue(consumer_queue.dead_letter_queue())
        await dead.bind(dlx, routing_key=consumer_queue.name)
