"""Commands the notifier carries out: messages to send to users."""

from __future__ import annotations

import uuid
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from common.contracts.base import Contract, ReplyAddress
from common.contracts.ingress import Provider


class TextContent(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: Literal["text"] = "text"
    body: str = Field(min_length=1, max_length=4096)  # WhatsApp's limit for a text body
    preview_url: bool = False


class ReplyButton(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=256, description="Comes back as the user's choice id.")
    title: str = Field(min_length=1, max_length=20)  # WhatsApp's limits for reply buttons


class ButtonsContent(BaseModel):
    """Up to three reply buttons under a text (providers without them get a numbered text)."""

    model_config = ConfigDict(frozen=True)

    type: Literal["buttons"] = "buttons"
    body: str = Field(min_length=1, max_length=1024)
    buttons: list[ReplyButton] = Field(min_length=1, max_length=3)


class ListRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=24)
    description: str | None = Field(default=None, max_length=72)


class ListContent(BaseModel):
    """A list message: a button that opens up to ten rows."""

    model_config = ConfigDict(frozen=True)

    type: Literal["list"] = "list"
    body: str = Field(min_length=1, max_length=4096)
    button: str = Field(min_length=1, max_length=20, description="The label that opens the list.")
    rows: list[ListRow] = Field(min_length=1, max_length=10)


class TemplateContent(BaseModel):
    """A pre-approved template (Meta only): what may be sent outside the 24-hour window."""

    model_config = ConfigDict(frozen=True)

    type: Literal["template"] = "template"
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(default="pt_BR", min_length=2, max_length=15)
    body_parameters: list[str] = Field(default_factory=list, description="Fill {{1}}, {{2}}… in order.")


# A discriminated union: richer content (media) is added additively.
Content = Annotated[TextContent | ButtonsContent | ListContent | TemplateContent, Field(discriminator="type")]


class SendWhatsAppMessage(Contract):
    """Send one WhatsApp message to a user.

    ``message_id`` is the idempotency key: producers derive it deterministically from what caused
    the send (see ``for_reply``), so a redelivered cause yields the same command and one send.
    """

    ROUTING_KEY: ClassVar[str] = "whatsapp.send"

    provider: Provider
    business_id: str = Field(min_length=1, description="The business number to send from.")
    conversation_key: str = Field(min_length=1)
    to: ReplyAddress
    content: Content
    in_reply_to: str | None = Field(
        default=None, description="Provider message id this answers (quoted when useful)."
    )
    causation_id: uuid.UUID | None = Field(
        default=None, description="message_id of the event that caused this command."
    )

    def partition_key(self) -> str:
        # One conversation's messages reach the person in the order they were produced.
        return self.conversation_key

    @staticmethod
    def id_for_reply(cause_message_id: str, index: int) -> uuid.UUID:
        """Deterministic id of the ``index``-th reply to an inbound message."""
        return uuid.uuid5(_REPLY_NAMESPACE, f"{cause_message_id}#{index}")


_REPLY_NAMESPACE = uuid.UUID("6f1c2a8e-3a51-4f0e-9a43-0c8a1c6e2b7d")
