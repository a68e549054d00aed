"""What an outage of the notifier's own infrastructure does: the message waits, never dead-letters.

The delivery log (PostgreSQL) is the send's idempotency record: no send without it. A database
that does not answer is waited for *in place* (capped exponential backoff, full jitter): the
message keeps its shard, so its conversation stays in order, and nothing else on the shard could
proceed anyway. Past the wait ``patiently`` (``database.outages``) raises ``Unavailable`` and the
handler hands the message to a retry tier (acked here, back in a few seconds) instead of
dead-lettering it. Redis (the rate
limits) is not needed for a correct send: see ``notifier.rate_limit``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Patience:
    """How long a send waits for the delivery log's database."""

    before_s: float = 30.0  # to begin: past it the message goes to a retry tier, nothing was sent
    after_s: float = 600.0  # to record the provider's answer: it exists only in this process
