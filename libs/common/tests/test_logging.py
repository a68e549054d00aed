import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider

from common.logging import configure_logging, get_logger

pytestmark = pytest.mark.usefixtures("restore_logging")  # devkit.pytest_plugin


def test_lines_are_json_with_service_and_trace_ids(capsys):
    configure_logging("svc-under-test", "INFO", "json")
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("work") as span:
        get_logger("x").info("thing.happened", answer=42)
        logging.getLogger("stdlib").warning("from stdlib")
        trace_id = format(span.get_span_context().trace_id, "032x")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"] for line in lines] == ["thing.happened", "from stdlib"]
    for line in lines:
        assert line["service"] == "svc-under-test"
        assert line["trace_id"] == trace_id
    assert lines[0]["answer"] == 42


def test_lines_below_the_level_are_dropped(capsys):
    configure_logging("svc-under-test", "WARNING", "json")
    get_logger("x").info("too.quiet")
    get_logger("x").warning("loud.enough")
    events = [json.loads(line)["event"] for line in capsys.readouterr().out.splitlines()]
    assert events == ["loud.enough"]
