from opentelemetry import propagate

from common.telemetry import tracer_provider

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _start_child(service: str):
    # Not ended: an ended span would go to the exporter's batch.
    tracer = tracer_provider(service).get_tracer("t")
    return tracer.start_span("work", context=propagate.extract({"traceparent": PARENT}))


def test_without_an_exporter_spans_keep_their_ids_but_record_nothing(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    span = _start_child("svc")
    assert not span.is_recording()
    context = span.get_span_context()
    assert format(context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"  # still one trace
    assert context.span_id not in (0, 0xB7AD6B7169203331)  # a span of its own, for the log lines


def test_with_an_exporter_spans_are_recorded(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:9/v1/traces")
    span = _start_child("svc")
    assert span.is_recording()
    assert span.get_span_context().trace_flags.sampled
    assert span.resource.attributes["service.name"] == "svc"  # type: ignore[attr-defined]
