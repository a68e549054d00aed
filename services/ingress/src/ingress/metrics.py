"""Ingress's own Prometheus metrics (on the service's registry, served at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class IngressMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.webhooks = Counter(
            "ingress_webhooks_total",
            "Webhook requests by provider and HTTP status answered.",
            ["provider", "status"],
            registry=registry,
        )
        self.events = Counter(
            "ingress_events_total",
            "Normalised events by provider, type and outcome (published or duplicate).",
            ["provider", "type", "outcome"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "ingress_rate_limited_total",
            "User messages not published because their sender exceeded the rate limit.",
            ["provider"],
            registry=registry,
        )
        self.parked = Counter(
            "ingress_webhooks_parked_total",
            "Authenticated webhooks we could not understand, parked for a person.",
            ["provider"],
            registry=registry,
        )
