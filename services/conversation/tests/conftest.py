"""A chat driver for the conversation's unit tests: real machine, offline engine, real validators;
in-memory sessions and a scripted registration service instead of Redis and the broker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from common.contracts import (
    ButtonsContent,
    CancelOutcome,
    HandoffRequested,
    InteractiveChoice,
    ListContent,
    MessageKind,
    MessageReceived,
    Provider,
    RegistrationStatus,
    RegistrationView,
    SendWhatsAppMessage,
    SubmitOutcome,
    TextContent,
)
from conversation.domain.registry_queries import (
    Answer,
    Cancel,
    Cancelled,
    CheckTaken,
    Found,
    Lookup,
    Query,
    Submit,
    Submitted,
    Taken,
    Unavailable,
)
from conversation.engines.offline import OfflineEngine
from conversation.knowledge import DEFAULT_EVENT_FILE, EventKnowledge, load_event
from conversation.registry import Asker
from conversation.service import Conversation, handle_message
from conversation.sessions import InMemorySessions
from devkit import factories

START = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
TAKEN_CPF = "52998224725"  # valid check digits, registered by "someone else"


@dataclass
class ScriptedRegistry:
    """Answers like the registration service would; ``down`` makes every request time out."""

    down: bool = False
    taken: set[str] = field(default_factory=lambda: {TAKEN_CPF, "ocupado@example.com"})
    registered: dict[str, RegistrationView] = field(default_factory=dict)
    asked: list[Query] = field(default_factory=list)

    async def ask(self, query: Query, asker: Asker) -> Answer:
        self.asked.append(query)
        conversation_key = asker.conversation_key
        if self.down:
            return Unavailable(query)
        match query:
            case CheckTaken(field=f, value=value):
                return Taken(f, value in self.taken)
            case Submit(form=form):
                if form.cpf in self.taken:
                    return Submitted(SubmitOutcome.CPF_TAKEN)
                code = f"AGR{len(self.registered) + 1:04d}"
                self.registered[conversation_key] = RegistrationView(
                    found=True,
                    code=code,
                    status=RegistrationStatus.CONFIRMED,
                    full_name=form.full_name,
                    email=form.email,
                    cpf_masked="***.456.789-**",
                )
                return Submitted(SubmitOutcome.CREATED, code, RegistrationStatus.CONFIRMED)
            case Lookup(purpose=purpose):
                return Found(purpose, self.registered.get(conversation_key, RegistrationView(found=False)))
            case Cancel(code=code):
                view = self.registered.get(conversation_key)
                if view is None:
                    return Cancelled(CancelOutcome.NOT_FOUND)
                self.registered[conversation_key] = view.model_copy(
                    update={"status": RegistrationStatus.CANCELLED}
                )
                return Cancelled(CancelOutcome.CANCELLED, code)
        raise AssertionError(query)


@dataclass
class Chat:
    """One WhatsApp user talking to the bot; ``say`` returns what the bot answered (rendered)."""

    conversation: Conversation
    registry: ScriptedRegistry
    sent: list[SendWhatsAppMessage]
    handoffs: list[HandoffRequested]
    provider: Provider = Provider.META
    key: str = "meta:biz:5564999990000"
    phone: str | None = "+5564999990000"
    clock: datetime = START
    count: int = 0

    async def say(
        self, text: str | None = None, *, after: timedelta = timedelta(seconds=20), **extra: Any
    ) -> str:
        self.clock += after
        message = self.next_message(text, **extra)
        before = len(self.sent)
        await handle_message(message, self.conversation)
        return "\n---\n".join(self.rendered(c) for c in self.sent[before:])

    def next_message(self, text: str | None = None, **extra: Any) -> MessageReceived:
        """The user's next message, not handled yet."""
        self.count += 1
        return factories.message_received(
            provider=self.provider,
            provider_message_id=f"wamid.{self.key}.{self.count}",
            business_id="biz",
            conversation_key=self.key,
            text=text,
            sent_at=self.clock,
            phone=self.phone,
            **extra,
        )

    async def tap(self, option_id: str, title: str = "") -> str:
        return await self.say(
            title or option_id,
            kind=MessageKind.INTERACTIVE,
            interactive=InteractiveChoice(kind="button_reply", id=option_id, title=title or option_id),
        )

    @staticmethod
    def rendered(command: SendWhatsAppMessage) -> str:
        content = command.content
        if isinstance(content, TextContent):
            return content.body
        titles = (
            [b.title for b in content.buttons]
            if isinstance(content, ButtonsContent)
            else [r.title for r in content.rows]
        )
        return content.body + "".join(f"\n  [{t}]" for t in titles)

    @property
    def options(self) -> list[str]:
        content = self.last.content
        if isinstance(content, ButtonsContent):
            return [b.id for b in content.buttons]
        if isinstance(content, ListContent):
            return [r.id for r in content.rows]
        return []

    @property
    def session(self) -> Any:
        return self.conversation.sessions.items[self.key]  # type: ignore[attr-defined]

    @property
    def last(self) -> SendWhatsAppMessage:
        return self.sent[-1]


@pytest.fixture(scope="session")
def knowledge() -> EventKnowledge:
    return load_event(DEFAULT_EVENT_FILE)


@pytest.fixture
def chat(knowledge: EventKnowledge) -> Chat:
    sent: list[SendWhatsAppMessage] = []
    handoffs: list[HandoffRequested] = []
    registry = ScriptedRegistry()

    async def send(command: SendWhatsAppMessage) -> None:
        sent.append(command)

    async def publish(event: HandoffRequested) -> None:
        handoffs.append(event)

    engine = OfflineEngine(knowledge, today=lambda: START.date())
    conversation = Conversation(InMemorySessions(), knowledge, engine, registry, send, publish)
    return Chat(conversation, registry, sent, handoffs)
