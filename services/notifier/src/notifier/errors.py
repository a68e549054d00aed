"""Notifier errors.

NotifierError
└── SendFailed        the provider refused or did not answer
      .retryable      True for rate limits, 5xx, timeouts and connection errors
      .retry_after_s  the provider's Retry-After, when it gave one
"""

from __future__ import annotations


class NotifierError(Exception):
    pass


class SendFailed(NotifierError):
    def __init__(self, reason: str, *, retryable: bool, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after_s = retry_after_s
