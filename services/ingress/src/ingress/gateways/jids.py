"""WhatsApp ids and phones as gateways send them: JIDs (``5561...@s.whatsapp.net``, ``123@lid``), E.164."""

from __future__ import annotations

PHONE_SUFFIXES = ("@s.whatsapp.net", "@c.us")
LID_SUFFIX = "@lid"
GROUP_SUFFIXES = ("@g.us", "@broadcast", "@newsletter")


def is_group(jid: str) -> bool:
    return jid.endswith(GROUP_SUFFIXES)


def is_lid(jid: str | None) -> bool:
    return bool(jid) and str(jid).endswith(LID_SUFFIX)


def e164(digits: str | None) -> str | None:
    """'5564999990000' → '+5564999990000'; None for anything that is not 8–15 digits."""
    return f"+{digits}" if digits and digits.isdigit() and 8 <= len(digits) <= 15 else None


def phone_of(*jids: str | None) -> str | None:
    """The E.164 phone of the first phone-based JID among ``jids`` (device suffix ``:12`` dropped)."""
    for jid in jids:
        if jid and jid.endswith(PHONE_SUFFIXES):
            phone = e164(jid.split("@", 1)[0].split(":", 1)[0])
            if phone:
                return phone
    return None


def stable_user_id(*jids: str | None) -> str | None:
    """One id per user for the conversation key: the privacy id (@lid) when known, else the phone JID.

    The @lid is what the gateway keeps for a user whose phone it may not see; preferring it keeps
    the key stable when the phone JID comes and goes.
    """
    known = [j for j in jids if j]
    return next((j for j in known if is_lid(j)), known[0] if known else None)
