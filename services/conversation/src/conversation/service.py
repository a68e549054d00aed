"""Use cases: one inbound message (load the session, understand, decide, ask, reply, remember),
a human-activity signal, and releasing a handoff."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry

from common.contracts import (
    HandoffRequested,
    HumanActivityDetected,
    MessageKind,
    MessageReceived,
    SendWhatsAppMessage,
)
from common.contracts.base import utcnow
from common.logging import get_logger
from conversation.domain import machine
from conversation.domain.machine import Inbound, Outcome, Policy
from conversation.domain.registry_queries import Submitted
from conversation.domain.replies import Reply
from conversation.domain.session import ChatSession
from conversation.domain.understanding import Understanding
from conversation.engines.base import Engine
from conversation.knowledge import EventKnowledge
from conversation.metrics import ConversationMetrics
from conversation.registry import Asker, Registry
from conversation.rendering import coalesce, content_for
from conversation.sessions import Sessions
from conversation.transcription import Transcriber

Send = Callable[[SendWhatsAppMessage], Awaitable[object]]
Publish = Callable[[HandoffRequested], Awaitable[object]]

log = get_logger(__name__)

# A save that lost to a newer one is decided again on the stored session this many times in all.
SAVE_ATTEMPTS = 3


class SessionContended(RuntimeError):
    """The session kept moving on under this handler (the message is dead-lettered, not lost)."""


# A query can lead to another (e.g. a lookup before a cancel is confirmed); never loop forever.
MAX_QUERIES_PER_MESSAGE = 3


@dataclass
class Conversation:
    """What the use cases work with (wired in ``app``; fakes in unit tests)."""

    sessions: Sessions
    knowledge: EventKnowledge
    engine: Engine
    registry: Registry
    send: Send
    publish_handoff: Publish
    policy: Policy = field(default_factory=Policy)
    transcriber: Transcriber | None = None
    metrics: ConversationMetrics = field(default_factory=lambda: ConversationMetrics(CollectorRegistry()))


async def handle_message(message: MessageReceived, c: Conversation) -> int:
    """Returns how many replies were sent.

    Order matters for redeliveries: replies are published before the session is saved, and their
    ids derive from the inbound message, so a crash in between re-sends the same commands (the
    notifier sends each once); after the save, the message is recognised and skipped. A save
    refused because the session moved on meanwhile (``conversation.sessions``) decides again on
    the stored session: usually the message is found handled by then.
    """
    for _ in range(SAVE_ATTEMPTS):
        replies = await _handle_once(message, c)
        if replies is not None:
            return replies
        log.warning("session.moved_on", conversation_key=message.conversation_key)
    raise SessionContended(message.conversation_key)


async def _handle_once(message: MessageReceived, c: Conversation) -> int | None:
    """None: the session moved on while this ran (nothing saved)."""
    session = await c.sessions.get(message.conversation_key)
    if session is not None and session.has_processed(message.provider_message_id):
        log.info("message.already_processed", provider_message_id=message.provider_message_id)
        return 0
    inbound = await _inbound(message, session, c)
    understanding = await _understand(inbound, session, c)
    outcome = machine.on_message(session, inbound, understanding, c.knowledge, c.policy)
    outcome, replies = await _resolve_queries(outcome, message, c)
    replies = coalesce(replies)
    for index, reply in enumerate(replies):
        await c.send(_command(message, index, reply))
    if outcome.handoff_requested:
        await c.publish_handoff(_handoff(message, outcome.session))
        c.metrics.handoffs.inc()
    if not await c.sessions.save(outcome.session, over=session):
        return None
    c.metrics.handled.labels(outcome.session.step.value, understanding.engine).inc()
    c.metrics.age.observe(max((utcnow() - message.occurred_at).total_seconds(), 0.0))
    log.info(
        "message.handled",
        replies=len(replies),
        step=outcome.session.step,
        intent=understanding.intent,
        engine=understanding.engine,
    )
    return len(replies)


async def _inbound(message: MessageReceived, session: ChatSession | None, c: Conversation) -> Inbound:
    text = message.text
    voice = message.kind is MessageKind.AUDIO and message.media is not None
    if (
        voice
        and not text
        and c.transcriber is not None
        and not (session and session.in_handoff(message.sent_at))
    ):
        text = await c.transcriber.transcribe(message)
    return Inbound(
        conversation_key=message.conversation_key,
        message_id=message.provider_message_id,
        at=message.sent_at,
        kind=message.kind,
        text=text.strip() if text else None,
        choice=message.interactive.id if message.interactive else None,
        display_name=message.display_name,
        phone=message.phone,
    )


async def _understand(inbound: Inbound, session: ChatSession | None, c: Conversation) -> Understanding:
    if inbound.choice or not inbound.text or (session and session.in_handoff(inbound.at)):
        return Understanding()  # a tapped option needs no reading; silence needs no engine
    return await c.engine.interpret(inbound.text, machine.context_for(session))


async def _resolve_queries(
    outcome: Outcome, message: MessageReceived, c: Conversation
) -> tuple[Outcome, list[Reply]]:
    replies = list(outcome.replies)
    for _ in range(MAX_QUERIES_PER_MESSAGE):
        if outcome.query is None:
            break
        asker = Asker(
            event_id=c.knowledge.event.id,
            conversation_key=message.conversation_key,
            provider=message.provider,
            business_id=message.business_id,
            reply_to=message.reply_to,
        )
        answer = await c.registry.ask(outcome.query, asker)
        if isinstance(answer, Submitted):
            c.metrics.registrations.labels(answer.outcome.value).inc()
        outcome = machine.on_answer(outcome.session, answer, c.knowledge, message.sent_at, c.policy)
        replies += outcome.replies
    return outcome, replies


def _command(message: MessageReceived, index: int, reply: Reply) -> SendWhatsAppMessage:
    return SendWhatsAppMessage(
        message_id=SendWhatsAppMessage.id_for_reply(message.provider_message_id, index),
        provider=message.provider,
        business_id=message.business_id,
        conversation_key=message.conversation_key,
        to=message.reply_to,
        content=content_for(reply, message.provider),
        in_reply_to=message.provider_message_id,
        causation_id=message.message_id,
    )


def _handoff(message: MessageReceived, session: ChatSession) -> HandoffRequested:
    assert session.handoff_until is not None
    return HandoffRequested(
        provider=message.provider,
        business_id=message.business_id,
        conversation_key=message.conversation_key,
        display_name=session.display_name,
        requested_at=message.sent_at,
        silent_until=session.handoff_until,
    )


async def record_human_activity(event: HumanActivityDetected, c: Conversation) -> None:
    """A person at the business wrote to the user: the bot stays out of their way for a while."""

    def silenced(stored: ChatSession | None) -> ChatSession:
        session = stored or ChatSession.start(event.conversation_key, event.sent_at)
        return session.human_replied(event.sent_at, c.policy.handoff_for)

    await _change_session(c.sessions, event.conversation_key, silenced)
    log.info("human.activity_recorded", conversation_key=event.conversation_key)


async def release_handoff(conversation_key: str, sessions: Sessions, now: datetime) -> bool:
    """The team is done: the bot answers again. False when there was no such conversation."""
    before = await _change_session(sessions, conversation_key, lambda s: s and s.released())
    if before is None:
        return False
    log.info("handoff.released", conversation_key=conversation_key, was_active=before.in_handoff(now))
    return True


async def _change_session(
    sessions: Sessions, conversation_key: str, change: Callable[[ChatSession | None], ChatSession | None]
) -> ChatSession | None:
    """Read, change, compare-and-set; read again when the session moved on meanwhile. Returns the
    session as it was before the change that was saved (None: there was none, or ``change`` gave
    nothing to save)."""
    for _ in range(SAVE_ATTEMPTS):
        stored = await sessions.get(conversation_key)
        changed = change(stored)
        if changed is None or await sessions.save(changed, over=stored):
            return stored if changed is not None else None
    raise SessionContended(conversation_key)
