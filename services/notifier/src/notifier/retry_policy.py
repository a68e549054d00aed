"""When to try a failed send again (pure): fixed tiers, the provider's Retry-After honoured."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """``delays_s[n]`` is the wait after the (n+1)-th failed attempt; one more failure gives up.

    The defaults (5 s → 15 s → 45 s → 90 s → 90 s) roughly triple up to a cap, as seed 004's did.
    Each delay is a retry *tier*, a broker queue whose TTL is that delay (notifier.retry_queues).
    """

    delays_s: tuple[float, ...] = (5, 15, 45, 90, 90)

    @property
    def max_attempts(self) -> int:
        return len(self.delays_s) + 1

    @property
    def tiers(self) -> tuple[float, ...]:
        return tuple(sorted(set(self.delays_s)))

    def next_delay(self, failed_attempts: int, retry_after_s: float | None = None) -> float | None:
        """The tier to wait in after ``failed_attempts`` failures; None when it is time to give up."""
        if failed_attempts >= self.max_attempts:
            return None
        wanted = max(self.delays_s[failed_attempts - 1], retry_after_s or 0.0)
        # The shortest tier that waits at least as long as wanted (the provider's Retry-After
        # included); beyond the longest tier, the longest: the next attempt would say so again.
        return next((tier for tier in self.tiers if tier >= wanted), self.tiers[-1])


def parse_delays(text: str) -> tuple[float, ...]:
    """``"5,15,45,90,90"`` → ``(5.0, 15.0, 45.0, 90.0, 90.0)``."""
    delays = tuple(float(part) for part in text.split(",") if part.strip())
    if not delays or any(d <= 0 for d in delays):
        raise ValueError("retry delays must be positive seconds, e.g. 5,15,45,90,90")
    return delays
