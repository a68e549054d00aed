"""Broker subscribers of the conversation service (thin: decode, call the use case)."""

from __future__ import annotations

from faststream.rabbit import RabbitBroker

from common.contracts import MessageReceived, SendWhatsAppMessage
from common.messaging import CONVERSATION_MESSAGES, publisher, subscriber
from conversation.knowledge import EventKnowledge
from conversation.service import handle_message
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
