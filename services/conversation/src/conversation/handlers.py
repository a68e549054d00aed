"""Broker subscribers of the conversation service (thin: decode, call the use case)."""

from __future__ import annotations

from faststream.rabbit import RabbitBroker

from common.contracts import HumanActivityDetected, MessageReceived, SendWhatsAppMessage
from common.messaging import CONVERSATION_HUMAN_ACTIVITY, CONVERSATION_MESSAGES, publisher, subscriber
from conversation.knowledge import EventKnowledge
from conversation.service import handle_message, record_human_activity
from conversation.sessions import Sessions


def register_handlers(
    broker: RabbitBroker, *, sessions: Sessions, knowledge: EventKnowledge, publish_timeout_s: float
) -> None:
    sends = publisher(broker, SendWhatsAppMessage, timeout=publish_timeout_s)

    async def send(command: SendWhatsAppMessage) -> None:
        await sends.publish(command, message_id=str(command.message_id))

    @subscriber(broker, CONVERSATION_MESSAGES)
    async def on_message_received(message: MessageReceived) -> None:
        """Answer a user's WhatsApp message."""
        await handle_message(message, sessions, knowledge, send)

    @subscriber(broker, CONVERSATION_HUMAN_ACTIVITY)
    async def on_human_activity_detected(event: HumanActivityDetected) -> None:
        """A person at the business wrote to the user from the provider's app."""
        await record_human_activity(event, sessions)
