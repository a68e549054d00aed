import pytest
import yaml
from pydantic import ValidationError

from conversation.knowledge import DEFAULT_EVENT_FILE, load_event


def test_shipped_sample_is_complete():
    knowledge = load_event(DEFAULT_EVENT_FILE)
    assert knowledge.event.starts_on <= knowledge.event.ends_on
    assert len(knowledge.days) >= 2
    assert all(day.sessions for day in knowledge.days)
    assert len(knowledge.speakers) >= 5
    assert knowledge.prices.lots
    assert len(knowledge.profiles) >= 4
    assert len(knowledge.faq) >= 10
    assert knowledge.event.privacy_policy_url.startswith("https://")


def test_a_session_naming_an_unknown_speaker_is_refused(tmp_path):
    data = yaml.safe_load(DEFAULT_EVENT_FILE.read_text(encoding="utf-8"))
    data["days"][0]["sessions"][0]["speakers"] = ["nobody-by-this-id"]
    broken = tmp_path / "event.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValidationError, match="nobody-by-this-id"):
        load_event(broken)
