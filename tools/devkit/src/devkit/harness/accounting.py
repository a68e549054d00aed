"""The full accounting after a run: every accepted message answered exactly once and in order,
every completed registration present once, every registration event published once.

Everything that breaks an invariant is listed by user and step, so a failing scenario says exactly
what was lost or duplicated.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from devkit.harness.script import CONFIRM_STEP, SCRIPT
from devkit.harness.users import Users

SHOWN = 10  # examples listed per kind of breach


@dataclass
class Accounting:
    users: int = 0
    users_finished: int = 0
    messages_accepted: int = 0
    messages_never_accepted: list[str] = field(default_factory=list)
    replies_expected: int = 0
    replies_received: int = 0
    lost: list[str] = field(default_factory=list)  # an accepted message without (all) its replies
    duplicated: list[str] = field(default_factory=list)  # one command received more than once
    extra: list[str] = field(default_factory=list)  # more replies to one message than it deserved
    out_of_order: list[str] = field(default_factory=list)
    unknown_sends: int = 0  # sends the stand-in got that no inbound explains
    # Answered, but not what the script expects (e.g. "try again later"): what the person saw,
    # reported beside the invariants, not one of them.
    dialogue_diverged: list[str] = field(default_factory=list)
    registrations_expected: int = 0
    registrations_found: int = 0
    registrations_missing: list[str] = field(default_factory=list)
    registrations_duplicated: list[str] = field(default_factory=list)
    registered_but_not_told: list[str] = field(default_factory=list)  # a note, not an invariant
    registration_events: int | None = None  # None: this build publishes none (not checked)
    registration_events_duplicated: list[str] = field(default_factory=list)  # a second event
    # The same event (same message_id) published again: the outbox's crash window, at least once.
    registration_events_republished: list[str] = field(default_factory=list)
    registration_events_missing: list[str] = field(default_factory=list)
    confirmation_emails: int | None = None  # None: this build sends none (not checked)
    emails_missing: list[str] = field(default_factory=list)
    emails_duplicated: list[str] = field(default_factory=list)
    emails_unexpected: list[str] = field(default_factory=list)  # to an address nobody confirmed

    @property
    def holds(self) -> bool:
        return not (
            self.messages_never_accepted
            or self.lost
            or self.duplicated
            or self.extra
            or self.out_of_order
            or self.unknown_sends
            or self.registrations_missing
            or self.registrations_duplicated
            or self.registration_events_duplicated
            or self.registration_events_republished
            or self.registration_events_missing
            or self.emails_missing
            or self.emails_duplicated
            or self.emails_unexpected
        )

    def breaches(self) -> dict[str, Any]:
        """Only what went wrong, with counts and the first examples."""
        out: dict[str, Any] = {}
        for name in (
            "messages_never_accepted", "lost", "duplicated", "extra", "out_of_order",
            "registrations_missing", "registrations_duplicated",
            "registration_events_duplicated", "registration_events_republished",
            "registration_events_missing",
            "emails_missing", "emails_duplicated", "emails_unexpected",
        ):  # fmt: skip
            items: list[str] = getattr(self, name)
            if items:
                out[name] = {"count": len(items), "examples": items[:SHOWN]}
        if self.unknown_sends:
            out["unknown_sends"] = self.unknown_sends
        return out

    def summary(self) -> str:
        events = (
            "not published by this build" if self.registration_events is None else self.registration_events
        )
        mails = "not sent by this build" if self.confirmation_emails is None else self.confirmation_emails
        lines = [
            f"users {self.users} (finished {self.users_finished}), messages accepted "
            f"{self.messages_accepted}, replies {self.replies_received}/{self.replies_expected}, "
            f"registrations {self.registrations_found}/{self.registrations_expected}, "
            f"registration.completed events: {events}, confirmation e-mails: {mails}",
            "invariants: HOLD" if self.holds else "invariants: BROKEN",
        ]
        for name, breach in self.breaches().items():
            lines.append(f"  {name}: {breach}")
        if self.registered_but_not_told:
            lines.append(
                f"  (not an invariant) registered but told otherwise: {self.registered_but_not_told[:3]}"
            )
        if self.dialogue_diverged:
            lines.append(f"  (not an invariant) dialogue diverged {len(self.dialogue_diverged)}×: "
                         f"{self.dialogue_diverged[:3]}")  # fmt: skip
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, list):
                data[key] = {"count": len(value), "examples": value[:SHOWN]}
        data["holds"] = self.holds
        return data


def account_messages(users: Users) -> Accounting:
    acc = Accounting(users=len(users.runs))
    sends = Counter(s.command_id for s in users.graph.sends)
    acc.unknown_sends = len(users.unknown_sends)
    acc.duplicated = [
        f"command {cid}: user {users.by_command[cid][0].user} step {users.by_command[cid][0].step} "
        f"received {n}×"
        for cid, n in sends.items()
        if n > 1 and cid in users.by_command
    ]
    for run in users.runs:
        acc.users_finished += run.finished_at is not None
        arrival: list[tuple[float, int, int]] = []
        for turn in run.turns:
            where = f"user {turn.user} step {turn.step} ({SCRIPT[turn.step].text!r})"
            if turn.accepted_at is None:
                acc.messages_never_accepted.append(f"{where}: answers {turn.statuses}")
                continue
            acc.messages_accepted += 1
            acc.replies_expected += turn.expected
            indices = {i for i, _ in turn.replies}
            acc.replies_received += len(indices & set(range(turn.expected)))
            missing = sorted(set(range(turn.expected)) - indices)
            if missing:
                acc.lost.append(f"{where}: replies {missing} of {turn.expected} never sent")
            beyond = sorted(indices - set(range(turn.expected)))
            if beyond:
                acc.extra.append(f"{where}: unexpected replies {beyond}")
            arrival += [(send.arrived_at, turn.step, index) for index, send in turn.replies]
            said = " / ".join(s.text for _, s in sorted(turn.replies, key=lambda r: r[0]))
            if turn.replies and SCRIPT[turn.step].expect not in said:
                acc.dialogue_diverged.append(f"{where}: told {said[:160]!r}")
        order = [(step, index) for _, step, index in sorted(arrival)]
        if order != sorted(order):
            first = next(i for i in range(1, len(order)) if order[i] < order[i - 1])
            acc.out_of_order.append(
                f"user {run.persona.number}: reply (step, index) {order[first]} after {order[first - 1]}"
            )
    return acc


async def account_registrations(acc: Accounting, users: Users, database_url: str) -> None:
    """Each user told "Inscrição confirmada" is registered exactly once (under the corrected e-mail);
    nobody is registered twice. A registration the user was not told about is listed as a note."""
    told: dict[str, tuple[int, str]] = {}
    for r in users.runs:
        if len(r.turns) > CONFIRM_STEP and r.turns[CONFIRM_STEP].accepted_at is not None:
            said = " / ".join(s.text for _, s in r.turns[CONFIRM_STEP].replies)
            told[r.persona.corrected_email] = (r.persona.number, said)
    completed = {email: n for email, (n, said) in told.items() if SCRIPT[CONFIRM_STEP].expect in said}
    acc.registrations_expected = len(completed)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT email, count(*) FROM participants GROUP BY email"))
            found = {str(email): int(n) for email, n in rows}
    finally:
        await engine.dispose()
    ours = {email: n for email, n in found.items() if email in told}
    acc.registrations_found = sum(ours.values())
    for email, number in completed.items():
        if email not in found:
            acc.registrations_missing.append(
                f"user {number} ({email}): told it was confirmed, not in the database"
            )
    for email, count in ours.items():
        if count > 1:
            acc.registrations_duplicated.append(f"user {told[email][0]} ({email}) registered {count}×")
        if email not in completed:
            acc.registered_but_not_told.append(
                f"user {told[email][0]} ({email}), told: {told[email][1][:160]!r}"
            )


def account_events(acc: Accounting, completed: list[dict[str, Any]]) -> None:
    """``registration.completed`` events seen on the bus: one per registration, none twice."""
    if not completed and acc.registrations_found:
        acc.registration_events = None  # the registration outbox is not in this build yet
        return
    acc.registration_events = len(completed)
    per_registration: dict[str, set[str]] = defaultdict(set)
    for event in completed:
        per_registration[str(event.get("registration_id"))].add(str(event.get("message_id")))
    acc.registration_events_duplicated = [
        f"registration {r}: {len(ids)} different events"
        for r, ids in per_registration.items()
        if len(ids) > 1
    ]
    copies = Counter(str(e.get("message_id")) for e in completed)
    acc.registration_events_republished = [
        f"event {message_id}: published {n}×" for message_id, n in copies.items() if n > 1
    ]
    if len(per_registration) < acc.registrations_found:
        acc.registration_events_missing = [
            f"{acc.registrations_found - len(per_registration)} registrations without an event"
        ]


def account_emails(
    acc: Accounting, users: Users, recipients: list[str], also_registered: tuple[str, ...] = ()
) -> None:
    """One confirmation e-mail per registration, to the corrected address, none twice, none to an
    address nobody registered with (``also_registered``: users run outside ``users``, e.g. the
    load benchmark's calibration user, each owed one e-mail too)."""
    if not recipients:
        acc.confirmation_emails = None  # the notifier's e-mail is not in this build yet
        return
    acc.confirmation_emails = len(recipients)
    got = Counter(recipients)
    for run in users.runs:
        email = run.persona.corrected_email
        if len(run.turns) > CONFIRM_STEP and run.turns[CONFIRM_STEP].accepted_at is not None:
            if got[email] == 0:
                acc.emails_missing.append(f"user {run.persona.number} ({email})")
            elif got[email] > 1:
                acc.emails_duplicated.append(f"user {run.persona.number} ({email}): {got[email]} e-mails")
    for email in also_registered:
        if got[email] != 1:
            breaches = acc.emails_missing if got[email] == 0 else acc.emails_duplicated
            breaches.append(f"{email}: {got[email]} e-mails")
    known = {run.persona.corrected_email for run in users.runs} | set(also_registered)
    acc.emails_unexpected = [f"{email}: {n} e-mails" for email, n in got.items() if email not in known]
