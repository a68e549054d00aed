"""Per-key ordering across replicas: consuming a ``ShardedInbox`` (see ``common.messaging``),
with leases that spread its shards over the live replicas.

- Producers set the ``x-partition-key`` header (``Contract.partition_key``: for chat events, the
  conversation key). A ``x-consistent-hash`` exchange, bound to ``congress`` for the inbox's
  routing keys, sends every message of one key to the same shard queue.
- Each shard is a quorum queue with ``x-single-active-consumer``: even if two replicas subscribe,
  RabbitMQ delivers to one at a time, in order, and fails over when it goes away. With a prefetch
  of 1 per shard, one conversation's messages are handled one after another (after a reconnection
  too: a redelivery waits for the handler the cut left running, ``common.consumers``).
- So that replicas share the work (single-active-consumer alone gives everything to whoever
  subscribed first), a replica consumes only the shards it holds a Redis lease on: it takes up to
  its fair share (shards / live replicas), renews them, gives extras back when replicas join, and
  takes over the shards of a replica whose leases expired. Leases only balance; correctness never
  depends on them (single-active-consumer does that).
- The shards are the hot path, so they are consumed by lean aio-pika consumers
  (``common.consumers``: a FastStream subscriber's guarantees, a fraction of its cost). Each shard
  consumes on its own robust channel (prefetch 1), which aio-pika restores with its consumer
  after a reconnection.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aio_pika.abc import AbstractQueue, AbstractRobustChannel
from aiormq.exceptions import AMQPError, ChannelInvalidStateError
from faststream.middlewares import AckPolicy
from faststream.rabbit import Channel, RabbitBroker
from redis.asyncio import Redis
from redis.exceptions import RedisError

from common.consumers import SETTLE_ERRORS, Deliveries, Handler
from common.contracts import Contract
from common.logging import get_logger
from common.messaging import ShardedInbox

if TYPE_CHECKING:
    from faststream.rabbit.subscriber import RabbitSubscriber
    from prometheus_client import CollectorRegistry

    from common.service import ServiceRuntime

log = get_logger(__name__)


@dataclass
class _Shard:
    """One running shard: its channel, queue and consumer tag, and the messages in hand."""

    number: int
    channel: AbstractRobustChannel
    queue: AbstractQueue
    tag: str = ""
    in_hand: set[asyncio.Task[Any]] = field(default_factory=set)


class ShardConsumers:
    """Starts and stops this replica's consumers of individual shards (one per shard)."""

    def __init__(
        self,
        broker: RabbitBroker,
        inbox: ShardedInbox,
        handlers: dict[type[Contract], Handler],
        *,
        outage_wait_s: float = 120.0,
    ):
        self._broker = broker
        self._inbox = inbox
        self._handlers = handlers
        self._deliveries = Deliveries(inbox.name, handlers, outage_wait_s=outage_wait_s)
        self._running: dict[int, _Shard] = {}

    @property
    def inbox(self) -> ShardedInbox:
        return self._inbox

    @property
    def running(self) -> set[int]:
        return set(self._running)

    def instrument(self, registry: CollectorRegistry, app_name: str) -> None:
        """Record the consumer metrics in the service's registry (``consume_by_lease`` does)."""
        self._deliveries.instrument(registry, app_name)

    def build(self, shard: int, *, title: str | None = None) -> RabbitSubscriber:
        """The FastStream subscriber that *describes* a shard in AsyncAPI (tools/devkit docs).

        Never started: at run time ``start`` consumes the shard with the lean consumer below.
        """
        subscriber = self._broker.subscriber(
            self._inbox.shard_queue(shard),
            self._inbox.exchange(),
            channel=Channel(prefetch_count=1),
            ack_policy=AckPolicy.REJECT_ON_ERROR,
            title=title or f"{self._inbox.shard_name(shard)}:consume",
            description=f"One of the {self._inbox.shards} shards of {self._inbox.name}: a conversation's "
            "events, in order, one at a time.",
        )
        for contract, handler in self._handlers.items():
            subscriber(filter=_of_type(contract))(handler)
        return subscriber

    async def start(self, shard: int) -> None:
        if shard in self._running:
            return
        connection = self._broker._connection  # FastStream's robust connection; no public accessor
        if connection is None:
            raise RuntimeError("the broker is not connected")
        # Its own channel: prefetch 1 per shard (one conversation's messages never overlap), and
        # closing it on stop returns only this shard's unacked message. Robust: after a
        # reconnection aio-pika reopens it, sets the prefetch again, re-declares the queue (as
        # ``ShardedInbox.declare`` does: idempotent) and consumes again with the same tag.
        channel = await connection.channel(publisher_confirms=False)
        try:
            await channel.set_qos(prefetch_count=1)
            spec = self._inbox.shard_queue(shard)
            queue = await channel.declare_queue(spec.name, durable=True, arguments=spec.arguments)
            running = _Shard(shard, channel, queue)
            running.tag = await queue.consume(self._deliveries.tracked(running.in_hand, in_order=True))
        except BaseException:
            with contextlib.suppress(*SETTLE_ERRORS):
                await channel.close()
            raise
        self._running[shard] = running
        log.info("shard.started", shard=shard, inbox=self._inbox.name)

    async def stop(self, shard: int) -> None:
        """Hand a shard back without stranding a message.

        Cancel first (no more deliveries), let the message in hand finish and settle, then close
        the shard's channel (anything still unacked goes back at once). The other order — FastStream
        ``stop``'s: wait for the message in hand, then cancel — lets the next message (prefetch 1)
        arrive in between, left unacked on this channel, invisible to the replica that takes the
        shard over, for as long as this process lives: lost to the user and out of order.
        """
        running = self._running.pop(shard, None)
        if running is None:
            return
        if not running.channel.is_closed:
            with contextlib.suppress(*SETTLE_ERRORS):
                await running.queue.cancel(running.tag)
        if running.in_hand:
            await asyncio.wait(set(running.in_hand), timeout=self._broker.config.graceful_timeout)
        # Even when it looks closed: a channel cut by a reconnection is reopened, with its consumer,
        # unless closed by us.
        with contextlib.suppress(*SETTLE_ERRORS):
            await running.channel.close()
        log.info("shard.stopped", shard=shard, inbox=self._inbox.name)

    async def stop_all(self) -> None:
        for shard in list(self._running):
            await self.stop(shard)


def _of_type(contract: type[Contract]) -> Callable[[Any], bool]:
    expected = contract.message_type()

    def matches(message: Any) -> bool:
        return bool(getattr(message.raw_message, "type", None) == expected)

    return matches


# Renew or release a lease only if it is still ours (it may have expired and been taken).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0"""


class ShardLeases:
    """Keeps this replica consuming its fair share of shards (see the module docstring)."""

    def __init__(
        self,
        redis: Redis,
        inbox: ShardedInbox,
        consumers: ShardConsumers,
        replica_id: str,
        *,
        lease_ttl_s: float = 6.0,
        tick_s: float = 2.0,
    ) -> None:
        self._redis = redis
        self._inbox = inbox
        self._consumers = consumers
        self._me = replica_id
        self._ttl_ms = int(lease_ttl_s * 1000)
        self._tick_s = tick_s
        self._prefix = f"shards:{inbox.name}"
        self._task: asyncio.Task[None] | None = None
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    def _lease(self, shard: int) -> str:
        return f"{self._prefix}:lease:{shard}"

    def preference(self, shard: int) -> int:
        """Rendezvous hashing: a stable order, so shards tend to stay with the same replica."""
        return int.from_bytes(hashlib.blake2b(f"{self._me}:{shard}".encode(), digest_size=8).digest(), "big")

    async def balance(self) -> None:
        """One round: heartbeat, renew, give back extras, take free shards up to the fair share."""
        now = time.time()
        members = f"{self._prefix}:members"
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(members, {self._me: now})
            pipe.zremrangebyscore(members, "-inf", now - self._ttl_ms / 1000)
            pipe.zcard(members)
            _, _, live = await pipe.execute()
        fair = math.ceil(self._inbox.shards / max(int(live), 1))
        for shard in sorted(self._consumers.running):
            if not await self._renew(keys=[self._lease(shard)], args=[self._me, self._ttl_ms]):
                if await self._redis.set(self._lease(shard), self._me, nx=True, px=self._ttl_ms):
                    continue  # it lapsed while Redis was unreachable and nobody took it: still ours
                log.warning("shard.lease_lost", shard=shard)
                await self._consumers.stop(shard)
        held = sorted(self._consumers.running, key=self.preference)
        for shard in held[fair:]:  # a replica joined: hand shards over
            await self._consumers.stop(shard)
            await self._release(keys=[self._lease(shard)], args=[self._me])
        for shard in sorted(range(self._inbox.shards), key=self.preference, reverse=True):
            if len(self._consumers.running) >= fair:
                break
            if shard in self._consumers.running:
                continue
            if await self._redis.set(self._lease(shard), self._me, nx=True, px=self._ttl_ms):
                await self._consumers.start(shard)

    async def _loop(self) -> None:
        while True:
            try:
                await self.balance()
            except (RedisError, OSError, AMQPError, ChannelInvalidStateError) as exc:
                # Keep consuming what we hold: conversation cannot work without Redis anyway,
                # and single-active-consumer keeps order even if a lease lapses meanwhile. A shard
                # that could not start while the broker reconnects is taken again next round.
                log.warning("shard.balance_failed", error=str(exc))
            except Exception:  # never let one bad round end the balancing for good
                log.exception("shard.balance_error")
            await asyncio.sleep(self._tick_s)

    async def start(self) -> None:
        await self.balance()
        self._task = asyncio.create_task(self._loop(), name=f"leases:{self._inbox.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        held = self._consumers.running
        await self._consumers.stop_all()
        with contextlib.suppress(RedisError, OSError):
            for shard in held:
                await self._release(keys=[self._lease(shard)], args=[self._me])
            await self._redis.zrem(f"{self._prefix}:members", self._me)


def consume_by_lease(runtime: ServiceRuntime, redis: Redis, consumers: ShardConsumers) -> ShardLeases:
    """Consume ``consumers``' inbox by lease for the service's lifetime: take shards once the broker
    runs; on SIGTERM finish the messages in hand and hand the shards over."""
    replica = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
    leases = ShardLeases(redis, consumers.inbox, consumers, replica_id=replica)
    consumers.instrument(runtime.registry, runtime.name)
    runtime.on_started.append(leases.start)
    runtime.on_stopping.append(leases.stop)
    return leases
