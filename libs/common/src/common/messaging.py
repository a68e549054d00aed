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
from typing import TYPE_CHECKING, Any

from faststream.middlewares import AckPolicy
from faststream.rabbit import (
    Channel,
    ExchangeType,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitQueue,
    RabbitResponse,
)
from faststream.rabbit.opentelemetry import RabbitTelemetryMiddleware
from faststream.rabbit.prometheus import RabbitPrometheusMiddleware
from pydantic import BaseModel

from common.contracts import (
    CancelRegistration,
    CheckIdentity,
    Contract,
    FindRegistration,
    HandoffRequested,
    HumanActivityDetected,
    MessageReceived,
    MessageStatusChanged,
    SendWhatsAppMessage,
    SubmitRegistration,
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
# Requests answered by the registration service (request/reply: the answer goes to reply_to).
REGISTRATION_CHECKS = ConsumerQueue("registration", CheckIdentity)
REGISTRATION_SUBMITS = ConsumerQueue("registration", SubmitRegistration)
REGISTRATION_FINDS = ConsumerQueue("registration", FindRegistration)
REGISTRATION_CANCELS = ConsumerQueue("registration", CancelRegistration)
# Queues for people, not services: they wait here until someone (or a tool) takes them.
OPS_PARKED_WEBHOOKS = ConsumerQueue("ops", WebhookParked)
OPS_HANDOFFS = ConsumerQueue("ops", HandoffRequested)

TOPOLOGY: tuple[ConsumerQueue, ...] = (
    CONVERSATION_MESSAGES,
    CONVERSATION_HUMAN_ACTIVITY,
    NOTIFIER_WHATSAPP_SENDS,
    NOTIFIER_DELIVERY_STATUSES,
    REGISTRATION_CHECKS,
    REGISTRATION_SUBMITS,
    REGISTRATION_FINDS,
    REGISTRATION_CANCELS,
    OPS_PARKED_WEBHOOKS,
    OPS_HANDOFFS,
)
CONTRACTS: tuple[type[Contract], ...] = (
    MessageReceived,
    MessageStatusChanged,
    HumanActivityDetected,
    WebhookParked,
    SendWhatsAppMessage,
    HandoffRequested,
    CheckIdentity,
    SubmitRegistration,
    FindRegistration,
    CancelRegistration,
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


def subscriber(broker: RabbitBroker, queue: ConsumerQueue) -> RabbitSubscriber:
    """Subscribe to a consumer queue; ack after the handler returns, dead-letter if it raises."""
    return broker.subscriber(
        queue.queue(),
        EXCHANGE,
        ack_policy=AckPolicy.REJECT_ON_ERROR,
        title=f"{queue.name}:consume",
    )


def reply(answer: BaseModel) -> RabbitResponse:
    """A request's answer, for its ``reply_to`` (direct reply-to).

    Not mandatory: RabbitMQ (3.10 here) answers a mandatory publish to ``amq.rabbitmq.reply-to.*``
    with basic.return NO_ROUTE even when it delivered it, which would fail the handler and
    dead-letter a request that succeeded. A requester that gave up simply never reads the answer.
    """
    return RabbitResponse(answer, mandatory=False, content_type="application/json")


async def declare_topology(broker: RabbitBroker) -> None:
    """Declare exchanges, every consumer queue and its dead-letter queue (idempotent)."""
    await broker.declare_exchange(EXCHANGE)
    dlx = await broker.declare_exchange(DEAD_LETTER_EXCHANGE)
    for consumer_queue in TOPOLOGY:
        queue = await broker.declare_queue(consumer_queue.queue())
        await queue.bind(EXCHANGE.name, routing_key=consumer_queue.contract.ROUTING_KEY)
        dead = await broker.declare_queue(consumer_queue.dead_letter_queue())
        await dead.bind(dlx, routing_key=consumer_queue.name)
