"""What can happen to an outbound message, and how provider receipts move it (pure rules)."""

from __future__ import annotations

from enum import StrEnum

from common.contracts import DeliveryStatus


class DeliveryState(StrEnum):
    QUEUED = "queued"  # recorded, not tried yet
    SENDING = "sending"  # the provider is being called right now (or we crashed while it was)
    SENT = "sent"  # the provider accepted it and gave its message id
    DELIVERED = "delivered"
    READ = "read"
    FAILED_TEMPORARY = "failed_temporary"  # waiting in a retry queue
    FAILED_PERMANENT = "failed_permanent"  # refused for good, or retries exhausted: in the DLQ
    # Found 'sending' after a crash: maybe sent. A receipt settles it; a Meta send none settles
    # in time is sent again (``notifier.service``); other sends stay so (see README).
    UNKNOWN = "unknown"


# A send may be (re)tried from these; any other state means someone already did or decided.
SENDABLE = (DeliveryState.QUEUED, DeliveryState.FAILED_TEMPORARY)

# Receipts only move a message forward: a late 'delivered' never overwrites 'read'.
_RANK = {
    DeliveryState.QUEUED: 0,
    DeliveryState.SENDING: 1,
    DeliveryState.FAILED_TEMPORARY: 1,
    DeliveryState.UNKNOWN: 1,
    DeliveryState.SENT: 2,
    DeliveryState.DELIVERED: 3,
    DeliveryState.READ: 4,
    DeliveryState.FAILED_PERMANENT: 5,
}

_FROM_RECEIPT = {
    DeliveryStatus.SENT: DeliveryState.SENT,
    DeliveryStatus.DELIVERED: DeliveryState.DELIVERED,
    DeliveryStatus.READ: DeliveryState.READ,
    DeliveryStatus.PLAYED: DeliveryState.READ,
    DeliveryStatus.FAILED: DeliveryState.FAILED_PERMANENT,
}


def after_receipt(current: DeliveryState, receipt: DeliveryStatus) -> DeliveryState:
    """The state once ``receipt`` is applied (unchanged when it would move backwards)."""
    target = _FROM_RECEIPT.get(receipt)
    if target is None:
        return current
    if target is DeliveryState.FAILED_PERMANENT:
        # The provider failed it after accepting it: a fact, unless the person already has it.
        return current if current in (DeliveryState.DELIVERED, DeliveryState.READ) else target
    return target if _RANK[target] > _RANK[current] else current
