"""Every queue the topology declares, with its depth and consumers (AMQP passive declares)."""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aiormq.exceptions import ChannelNotFoundEntity

from common.messaging import SHARDED, TOPOLOGY

DISCARDED = "ops.discarded"  # where `dlq discard` keeps what it takes out, with the note


def queue_names() -> list[str]:
    names: list[str] = []
    for queue in TOPOLOGY:
        names += [queue.name, queue.dead_letter_name]
    for inbox in SHARDED:
        names += [inbox.shard_name(shard) for shard in range(inbox.shards)]
        names.append(inbox.dead_letter_name)
    return names


def dead_letter_names() -> list[str]:
    return [name for name in queue_names() if name.endswith(".dlq")] + [
        q.name for q in TOPOLOGY if q.consumer == "ops"
    ]


@dataclass(frozen=True)
class QueueState:
    name: str
    messages: int | None  # None: the queue does not exist (yet)
    consumers: int | None


async def states(connection: aio_pika.abc.AbstractConnection, names: list[str]) -> list[QueueState]:
    found: list[QueueState] = []
    for name in names:
        channel = await connection.channel()  # a failed passive declare closes its channel
        try:
            queue = await channel.declare_queue(name, passive=True)
            result = queue.declaration_result
            found.append(QueueState(name, result.message_count, result.consumer_count))
        except ChannelNotFoundEntity:
            found.append(QueueState(name, None, None))
        finally:
            if not channel.is_closed:
                await channel.close()
    return found
