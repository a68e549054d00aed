"""The accounting names every breach: a lost, duplicated, extra or out-of-order reply, by user and step."""

from __future__ import annotations

from common.contracts import SendWhatsAppMessage
from devkit.harness.accounting import Accounting, account_emails, account_events, account_messages
from devkit.harness.chaos import late_replies
from devkit.harness.graph import LoadGraph, Send
from devkit.harness.script import CONFIRM_STEP, personas
from devkit.harness.users import Turn, UserRun, Users


def users_with(turns: int) -> tuple[Users, UserRun]:
    users = Users(LoadGraph(), ["http://127.0.0.1:9"], "secret", [1] * turns, run="t")
    run = UserRun(personas(1, "t")[0])
    users.runs.append(run)
    for step in range(turns):
        turn = users._turn(run, step, expected=1)
        turn.accepted_at = float(step)
    return users, run


def reply(users: Users, turn: Turn, index: int, at: float) -> None:
    command_id = str(SendWhatsAppMessage.id_for_reply(turn.wamid, index))
    send = Send(command_id, turn.wamid, at, "ok")
    users.graph.sends.append(send)
    users._on_send(send)


def test_every_message_answered_once_in_order_holds() -> None:
    users, run = users_with(3)
    for turn in run.turns:
        reply(users, turn, 0, at=turn.step + 0.5)
    accounting = account_messages(users)
    assert accounting.holds
    assert (accounting.messages_accepted, accounting.replies_received) == (3, 3)


def test_lost_duplicated_extra_and_out_of_order_are_each_named() -> None:
    users, run = users_with(4)
    first, second, third, fourth = run.turns
    reply(users, first, 0, at=1.0)
    reply(users, first, 0, at=1.1)  # the same command twice
    reply(users, third, 0, at=3.0)
    reply(users, second, 0, at=3.5)  # step 1 answered after step 2
    reply(users, second, 1, at=3.6)  # a reply nobody expected
    # the fourth message is never answered
    accounting = account_messages(users)
    assert not accounting.holds
    assert len(accounting.duplicated) == 1 and "step 0" in accounting.duplicated[0]
    assert accounting.lost == ["user 0 step 3 ('quero me inscrever'): replies [0] of 1 never sent"]
    assert accounting.extra == ["user 0 step 1 ('onde vai ser o evento?'): unexpected replies [1]"]
    assert accounting.out_of_order == ["user 0: reply (step, index) (1, 0) after (2, 0)"]
    assert fourth.replies == []


def test_a_message_never_accepted_is_reported() -> None:
    users, run = users_with(1)
    run.turns[0].accepted_at = None
    run.turns[0].statuses = [503, 503, 0]
    accounting = account_messages(users)
    assert accounting.messages_never_accepted == ["user 0 step 0 ('oi'): answers [503, 503, 0]"]


def test_a_reply_after_the_user_stopped_waiting_is_late_not_lost() -> None:
    users, run = users_with(2)
    first, second = run.turns
    first.posted_at, second.posted_at = 0.0, 1.0
    reply(users, first, 0, at=0.5)
    reply(users, second, 0, at=1.0 + users.turn_timeout_s + 20)  # from the 45 s retry tier
    assert account_messages(users).holds
    assert late_replies(users) == (
        f"1 replies came after their user stopped waiting ({users.turn_timeout_s:.0f} s), the latest "
        f"{users.turn_timeout_s + 20:.0f} s after its message"
    )
    users.runs[0].turns.pop()
    assert late_replies(users) is None


def test_emails_are_owed_once_to_each_confirmed_address_and_to_no_other() -> None:
    users, run = users_with(CONFIRM_STEP + 1)
    mine = run.persona.corrected_email
    accounting = Accounting()
    account_emails(accounting, users, [mine, "calibration@example.com"], ("calibration@example.com",))
    assert accounting.holds

    accounting = Accounting()
    account_emails(accounting, users, [mine, mine, "stranger@example.com"], ("calibration@example.com",))
    assert accounting.emails_duplicated == [f"user 0 ({mine}): 2 e-mails"]
    assert accounting.emails_missing == ["calibration@example.com: 0 e-mails"]
    assert accounting.emails_unexpected == ["stranger@example.com: 1 e-mails"]
    assert not accounting.holds


def test_the_same_event_again_and_a_second_event_are_told_apart() -> None:
    accounting = Accounting(registrations_found=2)
    seen = [
        {"registration_id": "r1", "message_id": "m1"},
        {"registration_id": "r1", "message_id": "m1"},  # the outbox published it again
        {"registration_id": "r2", "message_id": "m2"},
        {"registration_id": "r2", "message_id": "m3"},  # a second event for one registration
    ]
    account_events(accounting, seen)
    assert accounting.registration_events_republished == ["event m1: published 2×"]
    assert accounting.registration_events_duplicated == ["registration r2: 2 different events"]
    assert accounting.registration_events_missing == []
    assert set(accounting.breaches()) == {"registration_events_republished", "registration_events_duplicated"}
