"""Notifier's own Prometheus metrics (on the service's registry, served at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from notifier.service import AwaitingReceipt, Deferred, Delivered, GaveUp, Outcome, RetryLater, Skipped


class NotifierMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sends = Counter(
            "notifier_sends_total",
            "Send attempts by channel, provider and outcome "
            "(delivered, retry_scheduled, failed_permanent, skipped, unknown, deferred, awaiting_receipt).",
            ["channel", "provider", "outcome"],
            registry=registry,
        )
        self.read_marks = Counter(
            "notifier_read_marks_total",
            "Received messages marked read, by provider and outcome "
            "(marked, duplicate, failed, unsupported).",
            ["provider", "outcome"],
            registry=registry,
        )

    def count(self, channel: str, provider: str, outcome: Outcome) -> None:
        match outcome:
            case Delivered():
                label = "delivered"
            case RetryLater():
                label = "retry_scheduled"
            case GaveUp():
                label = "failed_permanent"
            case Skipped():
                label = "unknown" if outcome.state == "unknown" else "skipped"
            case Deferred():
                label = "deferred"  # the delivery log was unreachable: waiting in a retry tier
            case AwaitingReceipt():
                label = "awaiting_receipt"  # interrupted mid-call: resent unless a receipt comes
        self.sends.labels(channel, provider, label).inc()

    def count_read(self, provider: str, outcome: str) -> None:
        self.read_marks.labels(provider, outcome).inc()
