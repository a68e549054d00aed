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

import functools
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import aio_pika
from aiormq.exceptions import AMQPConnectionError, AMQPError, ChannelClosed, ChannelInvalidStateError
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
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

from common.contracts import (
    CancelRegistration,
    CheckIdentity,
    Contract,
    FindRegistration,
    HandoffRequested,
    HumanActivityDetected,
    MessageReceived,
    MessageStatusChanged,
    RegistrationCancelled,
    RegistrationCompleted,
    RegistrationErased,
    RegistrationPromoted,
    RegistrationUpdated,
    SendWhatsAppMessage,
    SubmitRegistration,
    UpdateContact,
    WebhookParked,
)

if TYPE_CHECKING:
    from aio_pika.abc import HeadersType
    from faststream.rabbit.publisher import RabbitPublisher
    from faststream.rabbit.subscriber import RabbitSubscriber
    from opentelemetry.sdk.trace import TracerProvider
    from prometheus_client import CollectorRegistry

    from common.settings import ServiceSettings

P = ParamSpec("P")
R = TypeVar("R")

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


PARTITION_HEADER = "x-partition-key"


@dataclass(frozen=True)
class ShardedInbox:
    """A consumer's ordered inbox for some contracts, split into ``shards`` queues."""

    consumer: str
    contracts: tuple[type[Contract], ...]
    shards: int

    @property
    def name(self) -> str:
        return f"{self.consumer}.inbox"

    @property
    def dead_letter_name(self) -> str:
        return f"{self.name}.dlq"

    def exchange(self) -> RabbitExchange:
        return RabbitExchange(
            self.name,
            type=ExchangeType.X_CONSISTENT_HASH,
            durable=True,
            arguments={"hash-header": PARTITION_HEADER},
        )

    def shard_name(self, shard: int) -> str:
        return f"{self.name}.{shard:02d}"

    def shard_queue(self, shard: int) -> RabbitQueue:
        return RabbitQueue(
            self.shard_name(shard),
            queue_type=QueueType.QUORUM,
            durable=True,
            routing_key="1",  # the shard's weight on the hash ring
            arguments={
                "x-single-active-consumer": True,
                "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
                "x-dead-letter-routing-key": self.name,
                "x-delivery-limit": DELIVERY_LIMIT,
            },
        )

    def dead_letter_queue(self) -> RabbitQueue:
        return RabbitQueue(
            self.dead_letter_name, queue_type=QueueType.QUORUM, durable=True, routing_key=self.name
        )

    async def declare(self, broker: RabbitBroker) -> None:
        """Idempotent: the hash exchange bound to ``congress``, the shards, their dead letters.

        Declared with plain aio-pika calls, not through FastStream's declarer: it caches a queue
        with the channel that first declared it, and each shard's subscriber must consume on its
        own prefetch-1 channel (or one conversation's messages would overlap).
        """
        channel = await broker.config.channel_manager.get_channel()
        try:
            inbox = await channel.declare_exchange(
                self.name, type=ExchangeType.X_CONSISTENT_HASH.value, durable=True,
                arguments={"hash-header": PARTITION_HEADER},
            )  # fmt: skip
        except AMQPError as exc:
            raise RuntimeError(
                f"cannot declare {self.name} ({exc}); enable the plugin: "
                "rabbitmq-plugins enable rabbitmq_consistent_hash_exchange"
            ) from exc
        for contract in self.contracts:
            await inbox.bind(EXCHANGE.name, routing_key=contract.ROUTING_KEY)
        for shard in range(self.shards):
            spec = self.shard_queue(shard)
            queue = await channel.declare_queue(spec.name, durable=True, arguments=spec.arguments)
            await queue.bind(inbox, routing_key="1")
        dead_spec = self.dead_letter_queue()
        dead = await channel.declare_queue(dead_spec.name, durable=True, arguments=dead_spec.arguments)
        await dead.bind(DEAD_LETTER_EXCHANGE.name, routing_key=self.name)


def publish_headers(event: Contract) -> HeadersType:
    """Headers every publish of ``event`` carries (the partition key, when it has one)."""
    key = event.partition_key()
    return {PARTITION_HEADER: key} if key else {}


# Who consumes what. Every contract has at least one queue: publishes are mandatory.
# Conversation: one ordered inbox for what users and the business say, by conversation. The shard
# count is part of the topology (changing it moves conversations between shards: drain first).
CONVERSATION_SHARDS = 16
CONVERSATION_INBOX = ShardedInbox(
    "conversation", (MessageReceived, HumanActivityDetected), CONVERSATION_SHARDS
)
# Notifier: sends in order per conversation (an inbox like conversation's), receipts, and the
# registration events it e-mails about. Its retry tiers live in notifier.retry_queues. It reads
# what users write too, from its own queue (conversation's inbox is not delayed by it): to mark
# each message read and to know when Meta's 24-hour window was last opened.
NOTIFIER_SHARDS = 8
NOTIFIER_INBOX = ShardedInbox("notifier", (SendWhatsAppMessage,), NOTIFIER_SHARDS)
NOTIFIER_DELIVERY_STATUSES = ConsumerQueue("notifier", MessageStatusChanged)
NOTIFIER_MESSAGES_RECEIVED = ConsumerQueue("notifier", MessageReceived)
# Requests answered by the registration service (request/reply: the answer goes to reply_to).
REGISTRATION_CHECKS = ConsumerQueue("registration", CheckIdentity)
REGISTRATION_SUBMITS = ConsumerQueue("registration", SubmitRegistration)
REGISTRATION_FINDS = ConsumerQueue("registration", FindRegistration)
REGISTRATION_CANCELS = ConsumerQueue("registration", CancelRegistration)
REGISTRATION_CONTACT_UPDATES = ConsumerQueue("registration", UpdateContact)
# Registration events (published through registration's outbox). The notifier mails people about
# the first three; nobody in this system consumes updated/erased, so they wait in example queues
# for an integration (CRM, badges) or an operator: see services/registration/README.md.
NOTIFIER_REGISTRATIONS_COMPLETED = ConsumerQueue("notifier", RegistrationCompleted)
NOTIFIER_REGISTRATIONS_PROMOTED = ConsumerQueue("notifier", RegistrationPromoted)
NOTIFIER_REGISTRATIONS_CANCELLED = ConsumerQueue("notifier", RegistrationCancelled)
INTEGRATIONS_REGISTRATIONS_UPDATED = ConsumerQueue("integrations", RegistrationUpdated)
INTEGRATIONS_REGISTRATIONS_ERASED = ConsumerQueue("integrations", RegistrationErased)
# Queues for people, not services: they wait here until someone (or a tool) takes them.
OPS_PARKED_WEBHOOKS = ConsumerQueue("ops", WebhookParked)
OPS_HANDOFFS = ConsumerQueue("ops", HandoffRequested)

SHARDED: tuple[ShardedInbox, ...] = (CONVERSATION_INBOX, NOTIFIER_INBOX)
TOPOLOGY: tuple[ConsumerQueue, ...] = (
    NOTIFIER_DELIVERY_STATUSES,
    NOTIFIER_MESSAGES_RECEIVED,
    REGISTRATION_CHECKS,
    REGISTRATION_SUBMITS,
    REGISTRATION_FINDS,
    REGISTRATION_CANCELS,
    REGISTRATION_CONTACT_UPDATES,
    NOTIFIER_REGISTRATIONS_COMPLETED,
    NOTIFIER_REGISTRATIONS_PROMOTED,
    NOTIFIER_REGISTRATIONS_CANCELLED,
    INTEGRATIONS_REGISTRATIONS_UPDATED,
    INTEGRATIONS_REGISTRATIONS_ERASED,
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
    UpdateContact,
    RegistrationCompleted,
    RegistrationPromoted,
    RegistrationCancelled,
    RegistrationUpdated,
    RegistrationErased,
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


def publisher(
    broker: RabbitBroker, contract: type[Contract], *, timeout: float, title: str | None = None
) -> RabbitPublisher:
    """A persistent, mandatory, confirmed publisher of one contract (documented in AsyncAPI).

    ``title`` names the AsyncAPI channel when a second service publishes the same contract.
    """
    return broker.publisher(
        exchange=EXCHANGE,
        routing_key=contract.ROUTING_KEY,
        persist=True,
        mandatory=True,
        timeout=timeout,
        schema=contract,
        message_type=contract.message_type(),
        title=title or f"{contract.ROUTING_KEY}:publish",
        description=contract.__doc__,
    )


class ConfirmedPublisher:
    """Publishes contracts through aio-pika on the broker's confirmed default channel.

    The same message a FastStream publisher sends (persistent, mandatory, confirmed; JSON body,
    ``type``, ``message_id``, ``correlation_id``, ``app_id``, ``traceparent``) without FastStream's
    per-publish middleware chain, which on a hot path costs more than the publish itself. It opens
    one PRODUCER span per message (FastStream opens two) whose context the consumer continues;
    ``producer_span=False`` opens none and propagates the current span (ingress: its server span).
    An unroutable, nacked or unconfirmed (``timeout``) publish raises. Keep declaring the contracts
    with ``publisher`` too: that is what documents them in AsyncAPI.
    """

    def __init__(
        self,
        broker: RabbitBroker,
        *,
        app_id: str,
        timeout: float,
        tracer: trace.Tracer,
        producer_span: bool = True,
    ) -> None:
        self._broker = broker
        self._app_id = app_id
        self._timeout = timeout
        self._tracer = tracer
        self._producer_span = producer_span

    async def publish(self, event: Contract) -> None:
        # Cached by FastStream after the first call; re-resolved after a reconnection, as it does.
        exchange = await self._broker.declare_exchange(EXCHANGE)
        # Without a span of its own, the current span's context is what the consumer continues.
        span = producer_span(self._tracer, event) if self._producer_span else nullcontext()
        with span:
            await exchange.publish(
                contract_message(event, app_id=self._app_id),
                routing_key=event.ROUTING_KEY,
                mandatory=True,
                timeout=self._timeout,
            )


def producer_span(
    tracer: trace.Tracer, event: Contract, *, correlation_id: str | None = None
) -> AbstractContextManager[trace.Span]:
    """The one PRODUCER span of a contract's publish (FastStream's attributes, FastStream's two
    spans' worth); ``contract_message`` called inside it carries its context."""
    message_id = str(event.message_id)
    return tracer.start_as_current_span(
        f"{EXCHANGE.name}.{event.ROUTING_KEY} publish",
        kind=trace.SpanKind.PRODUCER,
        attributes={
            "messaging.system": "rabbitmq",
            "messaging.operation": "publish",
            "messaging.destination.name": EXCHANGE.name,
            "messaging.rabbitmq.destination.routing_key": event.ROUTING_KEY,
            "messaging.message.id": message_id,
            "messaging.message.conversation_id": correlation_id or message_id,
        },
    )


def contract_message(
    event: Contract, *, app_id: str, correlation_id: str | None = None, reply_to: str | None = None
) -> aio_pika.Message:
    """The AMQP message of a contract, as FastStream's publishers send it: JSON body, persistent,
    ``type``, ids, ``x-partition-key`` and the current span's ``traceparent`` (call it inside the
    PRODUCER span)."""
    headers: dict[str, Any] = dict(publish_headers(event))
    propagate.inject(headers)
    message_id = str(event.message_id)
    return aio_pika.Message(
        event.model_dump_json().encode(),
        headers=headers,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message_id,
        correlation_id=correlation_id or message_id,
        reply_to=reply_to,
        type=event.message_type(),
        app_id=app_id,
        timestamp=datetime.now(UTC),
    )


def subscriber(broker: RabbitBroker, queue: ConsumerQueue) -> RabbitSubscriber:
    """Subscribe to a consumer queue; ack after the handler returns, dead-letter if it raises."""
    return broker.subscriber(
        queue.queue(),
        EXCHANGE,
        ack_policy=AckPolicy.REJECT_ON_ERROR,
        title=f"{queue.name}:consume",
    )


# What a publish raises while the broker restarts or the connection is being re-established (the
# robust connection comes back by itself). Not an unroutable or nacked message: those are answers.
TRANSIENT_PUBLISH_ERRORS: tuple[type[BaseException], ...] = (
    AMQPConnectionError,
    ChannelClosed,
    ChannelInvalidStateError,
    ConnectionError,
    TimeoutError,
)


def retry_transient(publish: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Retry a publish through a broker restart (≈ 1 min, jittered backoff) instead of failing the
    handler, which would dead-letter a message that only met a restart. A publish that timed out may
    have gone through: consumers dedupe on message ids, so sending it again is safe."""
    through_a_restart = retry(
        retry=retry_if_exception_type(TRANSIENT_PUBLISH_ERRORS),
        wait=wait_exponential_jitter(multiplier=0.2, max=5),
        stop=stop_after_delay(60),
        reraise=True,
    )(publish)

    @functools.wraps(publish)
    async def retried(*args: P.args, **kwargs: P.kwargs) -> R:
        try:  # without tenacity's machinery when the broker answers: most publishes
            return await publish(*args, **kwargs)
        except TRANSIENT_PUBLISH_ERRORS:
            pass  # a restart: waited out below (outside the handler: no chained traceback)
        return await through_a_restart(*args, **kwargs)

    return retried


async def declare_topology(broker: RabbitBroker) -> None:
    """Declare exchanges, every consumer queue and its dead-letter queue (idempotent)."""
    await broker.declare_exchange(EXCHANGE)
    dlx = await broker.declare_exchange(DEAD_LETTER_EXCHANGE)
    for consumer_queue in TOPOLOGY:
        queue = await broker.declare_queue(consumer_queue.queue())
        await queue.bind(EXCHANGE.name, routing_key=consumer_queue.contract.ROUTING_KEY)
        dead = await broker.declare_queue(consumer_queue.dead_letter_queue())
        await dead.bind(dlx, routing_key=consumer_queue.name)
    for inbox in SHARDED:
        await inbox.declare(broker)
