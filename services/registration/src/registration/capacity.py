"""How many places an event has, and who gets one: pure rules, no I/O.

A total and per-profile quotas are both optional; a registration is confirmed when its profile's
quota and the total both have room, otherwise it waits. Places freed are offered to the waitlist in
order of arrival; someone whose profile is full does not block those behind them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

Key = TypeVar("Key")


@dataclass(frozen=True)
class Capacity:
    total: int | None = None
    per_profile: Mapping[str, int] = field(default_factory=dict)

    @property
    def limited(self) -> bool:
        return self.total is not None or bool(self.per_profile)

    def has_place(self, profile: str, confirmed: Mapping[str, int]) -> bool:
        """``confirmed``: confirmed registrations by profile."""
        if self.total is not None and sum(confirmed.values()) >= self.total:
            return False
        quota = self.per_profile.get(profile)
        return quota is None or confirmed.get(profile, 0) < quota

    def promotions(self, confirmed: Mapping[str, int], waitlist: Iterable[tuple[Key, str]]) -> list[Key]:
        """Who, of ``waitlist`` (key, profile) in order of arrival, gets the places now free."""
        counts = Counter(confirmed)
        chosen: list[Key] = []
        for key, profile in waitlist:
            if self.total is not None and sum(counts.values()) >= self.total:
                break
            if self.has_place(profile, counts):
                chosen.append(key)
                counts[profile] += 1
        return chosen
