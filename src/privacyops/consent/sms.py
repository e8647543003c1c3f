"""Replies to marketing texts: which words revoke consent, which give it back, which ask for
help. One reply is one ledger record (`ledger.Method.sms_reply`)."""

from __future__ import annotations

import re
from enum import StrEnum


class SmsAction(StrEnum):
    opt_out = "opt_out"
    opt_in = "opt_in"
    help = "help"
    none = "none"


# 47 CFR 64.1200(a)(10) (FCC 24-18, in force 11 April 2025): these words in a reply revoke
# consent, whatever else the message says ("Please stop texting me" counts).
_REVOKE = re.compile(r"\b(stop|quit|end|revoke|opt[\s_-]*out|cancel|unsubscribe)\b", re.I)
# Opting back in must be unambiguous: the whole reply is the keyword (CTIA handbook: START,
# UNSTOP), so a sentence that merely contains "start" never subscribes anyone.
_RESUME = {"start", "unstop"}
_HELP = {"help", "info"}
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


def interpret(text: str) -> SmsAction:
    words = _EDGES.sub("", (text or "").strip()).lower()
    if _REVOKE.search(text or ""):
        return SmsAction.opt_out
    if words in _RESUME:
        return SmsAction.opt_in
    if words in _HELP:
        return SmsAction.help
    return SmsAction.none


def reply(action: SmsAction, program: str, contact: str) -> str | None:
    """The one confirmation allowed after a revocation holds no marketing (47 CFR
    64.1200(a)(12)); HELP names the program, the contact and the rates (CTIA)."""
    if action is SmsAction.opt_out:
        return f"{program}: you are unsubscribed and will get no more marketing texts."
    if action is SmsAction.opt_in:
        return f"{program}: you are subscribed to marketing texts again. Reply STOP to stop."
    if action is SmsAction.help:
        return (
            f"{program} marketing texts. Help: {contact}. Msg&data rates may apply. "
            "Reply STOP to stop."
        )
    return None
