"""Use case: handle one inbound message — load the session, respond, send, remember."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from common.contracts import HumanActivityDetected, MessageReceived, SendWhatsAppMessage, TextContent
from common.logging import get_logger
from conversation.domain.dialogue import respond
from conversation.domain.session import ChatSession
from conversation.knowledge import EventKnowledge
from conversation.sessions import Sessions

Send = Callable[[SendWhatsAppMessage], Awaitable[object]]

log = get_logger(__name__)


async def handle_message(
    message: MessageReceived, sessions: Sessions, knowledge: EventKnowledge, send: Send
) -> int:
    """Returns how many replies were sent.

    Order matters for redeliveries: replies are published before the session is saved, and their
    ids derive from the inbound message, so a crash in between re-sends the same commands (the
    notifier sends each once); after the save, the message is recognised and skipped.
    """
    session = await sessions.get(message.conversation_key)
    if session is not None and session.has_processed(message.provider_message_id):
        log.info("message.already_processed", provider_message_id=message.provider_message_id)
        return 0
    turn = respond(message, session, knowledge)
    for index, text in enumerate(turn.replies):
        await send(
            SendWhatsAppMessage(
                message_id=SendWhatsAppMessage.id_for_reply(message.provider_message_id, index),
                provider=message.provider,
                business_id=message.business_id,
                conversation_key=message.conversation_key,
                to=message.reply_to,
                content=TextContent(body=text),
                in_reply_to=message.provider_message_id,
                causation_id=message.message_id,
            )
        )
    await sessions.save(turn.session)
    log.info("message.handled", replies=len(turn.replies), state=turn.session.state)
    return len(turn.replies)


async def record_human_activity(event: HumanActivityDetected, sessions: Sessions) -> None:
    """Remember that a person at the business is talking to this user (the dialogue decides what
    that means for the bot)."""
    session = await sessions.get(event.conversation_key) or ChatSession.start(
        event.conversation_key, event.sent_at
    )
    await sessions.save(session.human_replied(event.sent_at))
    log.info("human.activity_recorded", conversation_key=event.conversation_key)
