"""Baileys message content (``data.message`` in Evolution, ``message`` in Whaticket), read once.

Both gateways run on Baileys, so a text, a voice note or a list reply has the same shape in each.
"""

from __future__ import annotations

from typing import Any

from common.contracts import InteractiveChoice, Location, MediaRef, MessageKind, Reaction, SharedContact

MEDIA = {
    "imageMessage": MessageKind.IMAGE,
    "audioMessage": MessageKind.AUDIO,
    "videoMessage": MessageKind.VIDEO,
    "documentMessage": MessageKind.DOCUMENT,
    "documentWithCaptionMessage": MessageKind.DOCUMENT,
    "stickerMessage": MessageKind.STICKER,
}


def content(message: dict[str, Any]) -> tuple[str | None, MessageKind, dict[str, Any]]:
    """Text, kind and the structured parts (keyword arguments of ``MessageReceived``).

    Raises ``KeyError``/``ValueError``/``TypeError`` on a malformed part; adapters report those.
    """
    if isinstance(message.get("conversation"), str):
        return message["conversation"], MessageKind.TEXT, {}
    extended = message.get("extendedTextMessage")
    if isinstance(extended, dict) and isinstance(extended.get("text"), str):
        return extended["text"], MessageKind.TEXT, {}
    for name, kind in MEDIA.items():
        part = message.get(name)
        if isinstance(part, dict):
            if name == "documentWithCaptionMessage":
                part = part.get("message", {}).get("documentMessage", {})
            media = MediaRef(
                url=message.get("mediaUrl") or part.get("url"),
                mime_type=part.get("mimetype"),
                sha256=part.get("fileSha256"),
                filename=part.get("fileName"),
                voice=bool(part.get("ptt")),
            )
            return part.get("caption"), kind, {"media": media}
    if isinstance(loc := message.get("locationMessage"), dict):
        location = Location(
            latitude=loc["degreesLatitude"],
            longitude=loc["degreesLongitude"],
            name=loc.get("name"),
            address=loc.get("address"),
        )
        return None, MessageKind.LOCATION, {"location": location}
    if isinstance(contact := message.get("contactMessage"), dict):
        return None, MessageKind.CONTACTS, {"contacts": [SharedContact(name=contact.get("displayName"))]}
    if isinstance(reaction := message.get("reactionMessage"), dict):
        target = reaction.get("key", {}).get("id") or ""
        emoji = reaction.get("text") or None
        return None, MessageKind.REACTION, {"reaction": Reaction(message_id=target, emoji=emoji)}
    if isinstance(buttons := message.get("buttonsResponseMessage"), dict):
        choice = InteractiveChoice(
            kind="button_reply", id=buttons.get("selectedButtonId"), title=buttons.get("selectedDisplayText")
        )
        return choice.title, MessageKind.INTERACTIVE, {"interactive": choice}
    if isinstance(listed := message.get("listResponseMessage"), dict):
        selected = listed.get("singleSelectReply")
        choice = InteractiveChoice(
            kind="list_reply",
            id=selected.get("selectedRowId") if isinstance(selected, dict) else None,
            title=listed.get("title"),
        )
        return choice.title, MessageKind.INTERACTIVE, {"interactive": choice}
    if isinstance(template := message.get("templateButtonReplyMessage"), dict):
        choice = InteractiveChoice(
            kind="button", id=template.get("selectedId"), title=template.get("selectedDisplayText")
        )
        return choice.title, MessageKind.BUTTON, {"interactive": choice}
    return None, MessageKind.UNSUPPORTED, {}
