from common.contracts import DeliveryStatus
from notifier.statuses import DeliveryState, after_receipt


def test_receipts_move_forward_only():
    assert after_receipt(DeliveryState.SENT, DeliveryStatus.DELIVERED) is DeliveryState.DELIVERED
    assert after_receipt(DeliveryState.READ, DeliveryStatus.DELIVERED) is DeliveryState.READ
    assert after_receipt(DeliveryState.DELIVERED, DeliveryStatus.SENT) is DeliveryState.DELIVERED


def test_a_receipt_resolves_an_unknown_send():
    assert after_receipt(DeliveryState.UNKNOWN, DeliveryStatus.SENT) is DeliveryState.SENT
    assert after_receipt(DeliveryState.SENDING, DeliveryStatus.READ) is DeliveryState.READ


def test_failure_after_acceptance_is_recorded_unless_the_person_has_it():
    assert after_receipt(DeliveryState.SENT, DeliveryStatus.FAILED) is DeliveryState.FAILED_PERMANENT
    assert after_receipt(DeliveryState.READ, DeliveryStatus.FAILED) is DeliveryState.READ


def test_other_receipts_change_nothing():
    assert after_receipt(DeliveryState.SENT, DeliveryStatus.DELETED) is DeliveryState.SENT
