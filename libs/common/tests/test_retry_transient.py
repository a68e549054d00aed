"""A publish that meets a broker restart is retried; an answer from the broker is not."""

from __future__ import annotations

import pytest
from aiormq.exceptions import ChannelInvalidStateError

from common.messaging import retry_transient


async def test_a_restart_is_waited_out():
    calls = 0

    @retry_transient
    async def publish() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ChannelInvalidStateError("channel closed")
        return "confirmed"

    assert await publish() == "confirmed"
    assert calls == 3


class Unroutable(Exception):
    """Stands for the broker's own answers (returned, nacked): not a restart."""


async def test_an_answer_from_the_broker_fails_at_once():
    calls = 0

    @retry_transient
    async def publish() -> None:
        nonlocal calls
        calls += 1
        raise Unroutable

    with pytest.raises(Unroutable):
        await publish()
    assert calls == 1
