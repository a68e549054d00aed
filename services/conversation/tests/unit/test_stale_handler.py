"""Two handlers of one message at once (a reconnection left the first running beside the
redelivery): whichever saves last, the chat never goes back."""

from __future__ import annotations

import asyncio
import dataclasses

from common.contracts import SendWhatsAppMessage
from conversation.domain.session import Step
from conversation.service import handle_message


async def test_a_handler_that_saves_last_does_not_take_the_chat_back(chat):
    await chat.say("oi")
    message = chat.next_message("quero me inscrever")
    held, release = asyncio.Event(), asyncio.Event()

    async def held_send(command: SendWhatsAppMessage) -> None:  # the broker went away under it
        held.set()
        await release.wait()
        await chat.conversation.send(command)

    first = asyncio.create_task(
        handle_message(message, dataclasses.replace(chat.conversation, send=held_send))
    )
    await held.wait()
    assert await handle_message(message, chat.conversation) == 1  # the redelivery: consent asked
    assert chat.session.step is Step.CONSENT
    await chat.say("sim")  # the user answered it and went on
    assert chat.session.step is Step.FORM
    release.set()
    assert await first == 0  # its save refused, it decided again: the message was handled
    assert chat.session.step is Step.FORM and chat.session.revision == 2
