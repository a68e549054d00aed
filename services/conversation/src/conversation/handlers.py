"""Broker subscribers of the conversation service (thin: decode, call the use case)."""

from __future__ import annotations

from faststream.rabbit import RabbitBroker
from opentelemetry import trace

from common.consumers import Handler
from common.contracts import (
    Contract,
    HandoffRequested,
    HumanActivityDetected,
    MessageReceived,
    SendWhatsAppMessage,
)
from common.messaging import CONVERSATION_INBOX, ConfirmedPublisher, publisher, retry_transient
from common.sharding import ShardConsumers
from conversation.service import Conversation, handle_message, record_human_activity


def inbox_consumers(broker: RabbitBroker, conversation: Conversation) -> ShardConsumers:
    """The handlers of the conversation inbox's shards (one conversation's events in order)."""

    async def on_message_received(message: MessageReceived) -> None:
        """Answer a user's WhatsApp message."""
        await handle_message(message, conversation)

    async def on_human_activity_detected(event: HumanActivityDetected) -> None:
        """A person at the business wrote to the user from the provider's app."""
        await record_human_activity(event, conversation)

    handlers: dict[type[Contract], Handler] = {
        MessageReceived: on_message_received,
        HumanActivityDetected: on_human_activity_detected,
    }
    return ShardConsumers(broker, CONVERSATION_INBOX, handlers)


class Outbound:
    """The service's confirmed publishers: replies to send, handoffs for the team.

    Through ``ConfirmedPublisher`` (one PRODUCER span, no FastStream middleware chain: the reply
    is on the hot path); the FastStream publishers are declared for AsyncAPI only.
    """

    def __init__(self, broker: RabbitBroker, publish_timeout_s: float, tracer: trace.Tracer) -> None:
        publisher(broker, SendWhatsAppMessage, timeout=publish_timeout_s)
        publisher(broker, HandoffRequested, timeout=publish_timeout_s)
        self._publisher = ConfirmedPublisher(
            broker, app_id="conversation", timeout=publish_timeout_s, tracer=tracer
        )

    @retry_transient
    async def send(self, command: SendWhatsAppMessage) -> None:
        # The partition key header routes the command to its conversation's notifier inbox shard.
        await self._publisher.publish(command)

    @retry_transient
    async def handoff(self, event: HandoffRequested) -> None:
        await self._publisher.publish(event)
