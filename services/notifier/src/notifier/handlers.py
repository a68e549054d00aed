"""Broker subscribers of the notifier (thin: decode, call the use case)."""

from __future__ import annotations

from faststream.rabbit import RabbitBroker
from faststream.rabbit.message import RabbitMessage

from common.contracts import MessageStatusChanged, SendWhatsAppMessage
from common.idempotency import Claims
from common.messaging import NOTIFIER_DELIVERY_STATUSES, NOTIFIER_WHATSAPP_SENDS, subscriber
from notifier.graph import GraphClient
from notifier.service import deliver, record_status


def register_handlers(
    broker: RabbitBroker,
    *,
    ledger: Claims,
    graph: GraphClient,
    attempts: int,
    backoff_max_s: float,
) -> None:
    context = broker.context

    @subscriber(broker, NOTIFIER_WHATSAPP_SENDS)
    async def on_send_whatsapp_message(command: SendWhatsAppMessage) -> None:
        """Send a WhatsApp message through the Graph API, once."""
        # Read from the context rather than injected as a parameter: FastStream resolves injected
        # context fields in a worker thread, a thread hop per message (seen in py-spy profiles).
        message: RabbitMessage = context.get_local("message")
        await deliver(
            command,
            ledger=ledger,
            send=graph.send,
            redelivered=bool(message.raw_message.redelivered),
            attempts=attempts,
            backoff_max_s=backoff_max_s,
        )

    @subscriber(broker, NOTIFIER_DELIVERY_STATUSES)
    async def on_message_status_changed(event: MessageStatusChanged) -> None:
        """What the provider reports about a message we sent."""
        record_status(event)
