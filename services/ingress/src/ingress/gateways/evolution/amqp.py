"""Evolution API's native RabbitMQ output as a source, instead of (or beside) its webhooks.

Switched on by ``EVOLUTION_AMQP_URL``. Evolution publishes each event as JSON to a durable topic
exchange (``EVOLUTION_AMQP_EXCHANGE``; the instance's name in per-instance mode) under the event's
name as routing key. We consume a durable quorum queue of our own bound to ``messages.*``, with a
dead-letter queue beside it; authentication is the broker's credentials.
"""

from __future__ import annotations

import asyncio
import json
import logging

from faststream.exceptions import NackMessage
from faststream.middlewares import AckPolicy
from faststream.rabbit import Channel, ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue
from faststream.rabbit.message import RabbitMessage
from faststream.rabbit.opentelemetry import RabbitTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider

from common.contracts import Provider
from common.logging import get_logger
from common.messaging import DEAD_LETTER_EXCHANGE, DELIVERY_LIMIT
from ingress.config import IngressSettings
from ingress.errors import Unavailable
from ingress.gateways.base import Normalised
from ingress.gateways.evolution import normalize
from ingress.service import Intake

log = get_logger(__name__)
RETRY_PAUSE_S = 1.0  # before handing an event back when our side is down, so it is not a hot loop


def evolution_source(
    settings: IngressSettings, intake: Intake, tracer_provider: TracerProvider
) -> RabbitBroker:
    assert settings.evolution_amqp_url is not None
    broker = RabbitBroker(
        settings.evolution_amqp_url,
        fail_fast=True,
        app_id="ingress",
        graceful_timeout=settings.graceful_timeout_s,
        ack_policy=AckPolicy.REJECT_ON_ERROR,
        default_channel=Channel(prefetch_count=settings.broker_prefetch),
        middlewares=(RabbitTelemetryMiddleware(tracer_provider=tracer_provider),),
        logger=logging.getLogger("faststream.ingress.evolution"),
        log_level=logging.DEBUG,
    )
    name = settings.evolution_amqp_queue
    queue = RabbitQueue(
        name,
        queue_type=QueueType.QUORUM,
        durable=True,
        routing_key=settings.evolution_amqp_routing_key,
        arguments={
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
            "x-dead-letter-routing-key": name,
            "x-delivery-limit": DELIVERY_LIMIT,
        },
    )
    exchange = RabbitExchange(settings.evolution_amqp_exchange, type=ExchangeType.TOPIC, durable=True)

    context = broker.context

    @broker.subscriber(queue, exchange, ack_policy=AckPolicy.REJECT_ON_ERROR, title=f"{name}:consume")
    async def on_evolution_event() -> None:
        """An Evolution API event from its RabbitMQ output (messages.upsert / messages.update)."""
        # The raw bytes, as for webhooks: parsed by us, parked verbatim if not understood.
        message: RabbitMessage = context.get_local("message")
        await take_in(message.body, intake)

    return broker


async def declare_dead_letters(broker: RabbitBroker, queue_name: str) -> None:
    """The DLX and DLQ may live on another broker than ours: declare them there too."""
    dlx = await broker.declare_exchange(DEAD_LETTER_EXCHANGE)
    dead = await broker.declare_queue(
        RabbitQueue(f"{queue_name}.dlq", queue_type=QueueType.QUORUM, durable=True)
    )
    await dead.bind(dlx, routing_key=queue_name)


async def take_in(body: bytes, intake: Intake) -> None:
    """The webhook pipeline minus HTTP: normalise, dedupe, publish, park what is not understood."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        normalised = Normalised(unrecognised=[f"not JSON: {exc}"])
    else:
        normalised = normalize.normalise(payload)
    try:
        await intake.accept(normalised.events)
        if normalised.unrecognised:
            await intake.park(Provider.EVOLUTION, body, normalised.unrecognised, "application/json")
    except Unavailable as exc:
        # Our broker or Redis is down: give the event back to Evolution's queue, not to the DLQ.
        log.warning("evolution.event_requeued", reason=str(exc))
        await asyncio.sleep(RETRY_PAUSE_S)
        raise NackMessage(requeue=True) from exc
    for reason in normalised.ignored:
        log.info("webhook.part_ignored", provider=Provider.EVOLUTION.value, reason=reason)
