"""Decide the answer to one inbound message, given what we remember of the conversation."""

from __future__ import annotations

from dataclasses import dataclass

from common.contracts import MessageReceived
from conversation.domain.greeting import greeting
from conversation.domain.session import ChatSession
from conversation.knowledge import EventKnowledge


@dataclass(frozen=True)
class Turn:
    session: ChatSession
    replies: list[str]


def respond(message: MessageReceived, session: ChatSession | None, knowledge: EventKnowledge) -> Turn:
    """The thin first behaviour: greet, naming the event and what the bot can do."""
    returning = session is not None and session.message_count > 0
    if session is None:
        session = ChatSession.start(message.conversation_key, message.sent_at)
    session = session.record(message.provider_message_id, message.sent_at, message.display_name)
    name = message.display_name or session.display_name
    return Turn(session=session, replies=[greeting(knowledge, name, returning=returning)])
