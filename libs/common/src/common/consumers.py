"""Lean consumers: plain aio-pika consumers with a FastStream subscriber's guarantees.

FastStream's subscriber middleware chain and argument resolution cost several times what the
handlers themselves do (docs/BENCHMARKS.md), so the busy queues are consumed here instead: the
shards of a ``ShardedInbox`` (``common.sharding``) and ordinary ``ConsumerQueue``\\ s
(``QueueConsumer``), including request/reply queues. What a subscriber with
``AckPolicy.REJECT_ON_ERROR`` guarantees is kept:

- the contract is validated once (``model_validate_json``); a body that is not the contract, or a
  ``type`` no handler takes, is rejected without requeue: the queue's dead-letter exchange keeps it
  (a queue of one contract also takes a message with no ``type``);
- the message is acked only after the handler returned (and its reply, if it was a request, was
  published), and rejected to the dead-letter queue when the handler raises;
- an outage of Redis, the broker or a database is waited out in place (``common.outages``), for as
  long as the delivery's channel is open: the handlers are idempotent, so running one again is safe;
- one CONSUMER span per message continues the producer's ``traceparent`` and is current while the
  handler runs (log lines carry its ids); FastStream's Prometheus series are recorded under the
  same names and labels, so dashboards and alerts read them as before.

Each consumer has its own robust channel, which aio-pika reopens with its consumer after a
reconnection. A never-started FastStream subscriber describes each queue in AsyncAPI.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustChannel
from aiormq.exceptions import AMQPError, ChannelInvalidStateError
from faststream.prometheus.container import MetricsContainer
from faststream.rabbit import RabbitBroker
from opentelemetry import propagate, trace
from pamqp.commands import Basic
from pydantic import BaseModel, ValidationError

from common.contracts import Contract
from common.logging import get_logger
from common.messaging import ConsumerQueue, subscriber
from common.outages import is_transient, patiently

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from common.service import ServiceRuntime

log = get_logger(__name__)

# A handler takes the validated contract; a request's handler returns its answer.
Handler = Callable[..., Awaitable[Any]]

Callback = Callable[[AbstractIncomingMessage], Awaitable[None]]  # what aio-pika's consume calls

_incoming: ContextVar[AbstractIncomingMessage | None] = ContextVar("incoming_message", default=None)

# The errors of a channel or connection gone with the message in hand: the broker gives it back.
SETTLE_ERRORS = (AMQPError, ChannelInvalidStateError, ConnectionError)


def incoming_message() -> AbstractIncomingMessage | None:
    """The delivery a lean consumer's handler is handling (to re-publish it as is, e.g. into a
    retry tier); ``None`` outside one."""
    return _incoming.get()


class UnknownMessage(Exception):
    """A delivery whose ``type`` no handler of the queue takes: dead-lettered, never dropped."""


class _Metrics:
    """FastStream's consumer series (``faststream_received_*``), under the same names and labels.

    Each handler's children are looked up once (``labels()`` takes a lock and builds a key on
    every call, six times per message)."""

    def __init__(self, registry: CollectorRegistry, app_name: str) -> None:
        self._m = MetricsContainer(registry, custom_label_names=())  # reuses registered series
        self._app = app_name
        self._children: dict[str, tuple[Any, Any, Any, Any]] = {}
        self._outcomes: dict[tuple[str, str], Any] = {}

    def _labels(self, handler: str) -> dict[str, str]:
        return {"app_name": self._app, "broker": "rabbitmq", "handler": handler}

    def _of(self, handler: str) -> tuple[Any, Any, Any, Any]:
        children = self._children.get(handler)
        if children is None:
            labels = self._labels(handler)
            children = self._children[handler] = (
                self._m.received_messages_total.labels(**labels),
                self._m.received_messages_size_bytes.labels(**labels),
                self._m.received_messages_in_process.labels(**labels),
                self._m.received_processed_messages_duration_seconds.labels(**labels),
            )
        return children

    def received(self, handler: str, size: int) -> None:
        total, sizes, in_process, _ = self._of(handler)
        total.inc()
        sizes.observe(size)
        in_process.inc()

    def processed(self, handler: str, duration_s: float, status: str, error: BaseException | None) -> None:
        _, _, in_process, durations = self._of(handler)
        if error is not None:
            self._m.received_processed_messages_exceptions_total.labels(
                **self._labels(handler), exception_type=type(error).__name__
            ).inc()
        durations.observe(duration_s)
        in_process.dec()
        outcome = self._outcomes.get((handler, status))
        if outcome is None:
            outcome = self._outcomes[(handler, status)] = self._m.received_processed_messages_total.labels(
                **self._labels(handler), status=status
            )
        outcome.inc()


class Deliveries:
    """Handles one delivery of a queue: validate, handle (outages waited out), reply, settle."""

    def __init__(
        self,
        name: str,
        handlers: dict[type[Contract], Handler],
        *,
        outage_wait_s: float,
        transient: Callable[[BaseException], bool] = is_transient,
    ) -> None:
        self._name = name
        self._routes = {contract.message_type(): (contract, h) for contract, h in handlers.items()}
        # A queue of one contract also takes a message without a ``type`` (another system's
        # publisher may not set it), as a FastStream subscriber did: the body is validated anyway.
        if len(handlers) == 1:
            self._routes[""] = next(iter(self._routes.values()))
        self._outage_wait_s = outage_wait_s
        self._transient = transient
        self._tracer = trace.get_tracer(__name__)  # the process's provider (common.telemetry)
        self._metrics: _Metrics | None = None

    def instrument(self, registry: CollectorRegistry, app_name: str) -> None:
        self._metrics = _Metrics(registry, app_name)

    async def handle(self, message: AbstractIncomingMessage) -> None:
        """Validate, handle, reply, then ack; reject without requeue (dead-letter) on any failure."""
        destination = f"{message.exchange or 'default'}.{message.routing_key}"
        started = time.perf_counter()
        if self._metrics is not None:
            self._metrics.received(destination, len(message.body))
        error: Exception | None = None
        with self._tracer.start_as_current_span(
            f"{destination} process",
            context=propagate.extract(message.headers or {}),
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.operation": "process",
                "messaging.message.id": message.message_id or "",
                "messaging.message.conversation_id": message.correlation_id or "",
                "messaging.message.payload_size_bytes": len(message.body),
                "messaging.rabbitmq.destination.routing_key": message.routing_key or "",
                "messaging.rabbitmq.message.delivery_tag": message.delivery_tag or 0,
                "messaging.destination_publish.name": message.exchange or "",
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                answer = await self._run(message)
                if message.reply_to and isinstance(answer, BaseModel):
                    await _reply(message, answer)
            except Exception as exc:  # any failure dead-letters the message
                error = exc
                span.record_exception(exc)
                span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
                log.error(
                    "message.dead_lettered",
                    queue=self._name,
                    message_id=message.message_id,
                    type=message.type,
                    error=f"{type(exc).__name__}: {exc}",
                    exc_info=not isinstance(exc, ValidationError | UnknownMessage),
                )
        status = "rejected" if error is not None else "acked"
        try:
            if error is not None:
                await message.reject(requeue=False)  # the queue's dead-letter exchange takes it
            else:
                await message.ack()
        except SETTLE_ERRORS as exc:
            # The channel died with the message in hand: the broker gives it back (redelivered,
            # the handlers are idempotent); nothing to settle here.
            status = "error"
            log.warning(
                "message.settle_failed", queue=self._name, message_id=message.message_id, error=repr(exc)
            )
        if self._metrics is not None:
            self._metrics.processed(destination, time.perf_counter() - started, status, error)

    def tracked(self, in_hand: set[asyncio.Task[Any]], *, in_order: bool = False) -> Callback:
        """``handle`` as a consumer callback that keeps each delivery's task in ``in_hand`` while it
        runs (stopping waits for those). ``in_order`` (a shard, prefetch 1): a delivery waits until
        the previous one's handler has finished."""

        async def on_message(message: AbstractIncomingMessage) -> None:
            if in_order and in_hand:
                # Only after a reconnection: the redelivered message arrives on the restored
                # channel while its first handler (shielded, below) still runs. Two handlers of one
                # conversation at once would let the older one save its session last — the chat
                # jumped back several steps in a RabbitMQ restart. After it, the redelivery finds
                # the work done.
                await asyncio.wait(set(in_hand))
            # A task of its own, shielded: aiormq cancels the delivery's task when the channel
            # closes (a broker restart), which would stop a handler half way — a send claimed and
            # never made. The handler finishes; only its ack fails, and the redelivery finds the
            # work done.
            task = asyncio.create_task(self.handle(message))
            in_hand.add(task)
            task.add_done_callback(in_hand.discard)
            await asyncio.shield(task)

        return on_message

    async def _run(self, message: AbstractIncomingMessage) -> Any:
        route = self._routes.get(message.type or "")
        if route is None:
            raise UnknownMessage(f"no handler for type {message.type!r} in {self._name}")
        contract, handler = route
        event = contract.model_validate_json(message.body)
        token = _incoming.set(message)
        try:
            return await patiently(
                lambda: handler(event),
                what=f"{self._name} handler",
                wait_s=self._outage_wait_s,
                transient=self._transient,
                still_wanted=lambda: delivery_open(message),
            )
        finally:
            _incoming.reset(token)


async def _reply(request: AbstractIncomingMessage, answer: BaseModel) -> None:
    """The answer to ``reply_to`` (direct reply-to), on the request's channel.

    Not mandatory: RabbitMQ answers a mandatory publish to ``amq.rabbitmq.reply-to.*`` with
    basic.return even when it delivered it. Unconfirmed: a lost answer times the asker out, and it
    asks again (requests are idempotent). Acked only after this: a crash before it redelivers.
    """
    await request.channel.basic_publish(
        answer.model_dump_json().encode(),
        exchange="",
        routing_key=request.reply_to or "",
        properties=Basic.Properties(
            content_type="application/json",
            correlation_id=request.correlation_id,
            message_type=type(answer).__name__,
        ),
    )


def delivery_open(message: AbstractIncomingMessage) -> bool:
    """Whether the delivery can still be settled (its channel is open)."""
    try:
        return not message.channel.is_closed
    except ChannelInvalidStateError:  # aio-pika's way of saying the channel is gone
        return False


class QueueConsumer:
    """One ``ConsumerQueue`` consumed for the service's lifetime, ``prefetch`` messages at once."""

    def __init__(
        self,
        broker: RabbitBroker,
        queue: ConsumerQueue,
        handler: Handler,
        *,
        prefetch: int,
        outage_wait_s: float = 120.0,
        transient: Callable[[BaseException], bool] = is_transient,
    ) -> None:
        self._broker = broker
        self._queue = queue
        self._handler = handler
        self._prefetch = prefetch
        self.deliveries = Deliveries(
            queue.name, {queue.contract: handler}, outage_wait_s=outage_wait_s, transient=transient
        )
        self._channel: AbstractRobustChannel | None = None
        self._consumer: tuple[AbstractQueue, str] | None = None
        self._in_hand: set[asyncio.Task[Any]] = set()

    def describe(self, broker: RabbitBroker) -> None:
        """A FastStream subscriber on ``broker`` (never started) that documents the queue."""
        subscriber(broker, self._queue)(self._handler)

    async def start(self) -> None:
        connection = self._broker._connection  # FastStream's robust connection; no public accessor
        if connection is None:
            raise RuntimeError("the broker is not connected")
        # Robust: after a reconnection aio-pika reopens it, sets the prefetch again, re-declares
        # the queue (as declare_topology did: idempotent) and consumes again with the same tag.
        channel = await connection.channel(publisher_confirms=False)

        on_message = self.deliveries.tracked(self._in_hand)
        try:
            await channel.set_qos(prefetch_count=self._prefetch)
            spec = self._queue.queue()
            queue = await channel.declare_queue(spec.name, durable=True, arguments=spec.arguments)
            self._consumer = (queue, await queue.consume(on_message))
        except BaseException:
            with contextlib.suppress(*SETTLE_ERRORS):
                await channel.close()
            raise
        self._channel = channel
        log.info("consumer.started", queue=self._queue.name, prefetch=self._prefetch)

    async def stop(self) -> None:
        """Cancel (no more deliveries), let the messages in hand finish, close the channel."""
        channel, self._channel = self._channel, None
        if channel is None:
            return
        if self._consumer is not None and not channel.is_closed:
            queue, tag = self._consumer
            with contextlib.suppress(*SETTLE_ERRORS):
                await queue.cancel(tag)
        if self._in_hand:
            await asyncio.wait(set(self._in_hand), timeout=self._broker.config.graceful_timeout)
        with contextlib.suppress(*SETTLE_ERRORS):
            await channel.close()  # anything still unacked goes back at once


def consume(
    runtime: ServiceRuntime,
    queue: ConsumerQueue,
    handler: Handler,
    *,
    prefetch: int,
    outage_wait_s: float = 120.0,
    transient: Callable[[BaseException], bool] = is_transient,
) -> QueueConsumer:
    """Consume ``queue`` with ``handler`` from when the broker runs until the service stops (before
    the broker does, so the messages in hand are settled); documented in AsyncAPI."""
    consumer = QueueConsumer(
        runtime.broker, queue, handler, prefetch=prefetch, outage_wait_s=outage_wait_s, transient=transient
    )
    consumer.deliveries.instrument(runtime.registry, runtime.name)
    consumer.describe(runtime.described)
    runtime.on_started.append(consumer.start)
    runtime.on_stopping.append(consumer.stop)
    return consumer
