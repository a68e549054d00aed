"""Registration codes people read aloud at the check-in desk: short, unambiguous, random."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L, U/V confusion; 30^6 ≈ 729 million codes per prefix.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
LENGTH = 6


def new_code(prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{prefix}-{body}"
