"""What conversation counts for Prometheus (besides FastStream's per-message metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class ConversationMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.handled = Counter(
            "conversation_messages_total",
            "User messages handled, by the step the conversation ended in and the engine that read it.",
            ["step", "engine"],
            registry=registry,
        )
        self.age = Histogram(
            "conversation_reply_age_seconds",
            "From ingress accepting the message to its replies being published (queueing included).",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )
        self.registrations = Counter(
            "conversation_registrations_total",
            "Registration outcomes told to users (created, already_registered, cpf_taken, …).",
            ["outcome"],
            registry=registry,
        )
        self.handoffs = Counter("conversation_handoffs_total", "Handoffs to a person.", registry=registry)
