"""Notifier errors.

NotifierError
└── SendFailed        the provider refused or did not answer
      .retryable      True for rate limits, 5xx, timeouts and connection errors
      .retry_after_s  the provider's Retry-After, when it gave one
      .code           the provider's error code, when it gave one (Meta: 131047, 130429…)
DeadLettered          a send given up on: the handler raises it so the message lands in the DLQ
(common.outages.Unavailable: the delivery log's database did not answer within the wait; the
message goes to a retry tier, never to the DLQ, the cause is transient.)
"""

from __future__ import annotations


class NotifierError(Exception):
    pass


class SendFailed(NotifierError):
    def __init__(
        self, reason: str, *, retryable: bool, retry_after_s: float | None = None, code: int | None = None
    ) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        self.code = code


class DeadLettered(NotifierError):
    """Raised by a handler so the broker rejects the message into its dead-letter queue."""
