"""Session documents: versioned, readable by older releases, refused loudly when too new."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from conversation.domain.session import SCHEMA_VERSION, ChatSession, SessionTooNew, Step

AT = datetime(2027, 1, 10, tzinfo=UTC)


def test_a_v1_document_is_upgraded():
    v1 = {
        "conversation_key": "meta:b:1",
        "state": "greeted",
        "first_seen_at": AT.isoformat(),
        "last_seen_at": AT.isoformat(),
        "message_count": 3,
        "processed": ["w1"],
    }
    session = ChatSession.model_validate_json(json.dumps(v1))
    assert (
        session.schema_version == SCHEMA_VERSION and session.step is Step.IDLE and session.message_count == 3
    )


def test_a_newer_document_with_additive_fields_is_read():
    doc = json.loads(ChatSession.start("meta:b:1", AT).model_dump_json())
    doc |= {"schema_version": SCHEMA_VERSION + 1, "a_new_field": {"x": 1}}
    assert ChatSession.model_validate(doc).conversation_key == "meta:b:1"


def test_a_document_this_release_cannot_read_is_refused_loudly():
    doc = json.loads(ChatSession.start("meta:b:1", AT).model_dump_json())
    doc |= {"schema_version": SCHEMA_VERSION + 1, "min_reader_version": SCHEMA_VERSION + 1}
    with pytest.raises(SessionTooNew):
        ChatSession.model_validate(doc)


def test_history_is_bounded():
    session = ChatSession.start("meta:b:1", AT)
    for i in range(100):
        session = session.remember("user", f"msg {i}")
    assert len(session.history) == 12 and session.history[-1].text == "msg 99"
