"""A machine ``Reply`` as WhatsApp content: buttons or a list where the provider has them,
numbered text elsewhere (the offline engine reads "2" back as the second option)."""

from __future__ import annotations

from common.contracts import ButtonsContent, ListContent, ListRow, Provider, ReplyButton, TextContent
from common.contracts.notifier import Content
from conversation.domain.replies import Reply

INTERACTIVE_PROVIDERS = {Provider.META}
_NUMBERS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")


def content_for(reply: Reply, provider: Provider) -> Content:
    options = reply.options
    if options and provider in INTERACTIVE_PROVIDERS:
        if len(options) <= 3 and all(len(o.label) <= 20 for o in options) and len(reply.text) <= 1024:
            buttons = [ReplyButton(id=o.id, title=o.label) for o in options]
            return ButtonsContent(body=reply.text, buttons=buttons)
        if len(options) <= 10:
            rows = [_row(o.id, o.label) for o in options]
            return ListContent(body=reply.text[:4096], button=reply.button, rows=rows)
    if options:
        numbered = "\n".join(f"{_number(i)} {o.label}" for i, o in enumerate(options))
        return TextContent(body=f"{reply.text}\n\n{numbered}"[:4096])
    return TextContent(body=reply.text[:4096])


def _row(option_id: str, label: str) -> ListRow:
    if len(label) <= 24:
        return ListRow(id=option_id, title=label)
    return ListRow(id=option_id, title=label[:23].rstrip() + "…", description=label[:72])


def _number(index: int) -> str:
    return _NUMBERS[index] if index < len(_NUMBERS) else f"{index + 1}."


def coalesce(replies: list[Reply], limit: int = 4096) -> list[Reply]:
    """One WhatsApp message per turn where it fits: consecutive texts are joined and the options
    of the last one kept. Fewer messages cost less, and one message cannot arrive out of order."""
    merged: list[Reply] = []
    for reply in replies:
        previous = merged[-1] if merged else None
        fits = previous is not None and len(previous.text) + 2 + len(reply.text) <= limit
        if previous is not None and not previous.options and fits:
            merged[-1] = Reply(f"{previous.text}\n\n{reply.text}", reply.options, reply.button)
        else:
            merged.append(reply)
    return merged
