"""One log format for the app and the CLI, and a filter that redacts personal data and secrets.

The first line of defence is never logging identities, passwords or tokens (log a subject's keyed
hash instead). The filter is the second: it rewrites any record that still carries an email
address, a phone number or a bearer token, whichever logger it came from (uvicorn's access log
included, once its records reach the root handler).
"""

from __future__ import annotations

import logging
import re
import sys
import time

from privacyops.settings import Settings

FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"

# Email addresses, also URL-encoded (`%40`) as they appear in query strings of access logs.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Our API tokens, and anything presented as a bearer credential.
_TOKEN = re.compile(r"\bpops_[A-Za-z0-9_-]+")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
# Phone candidates: digits with the usual separators; `_looks_like_phone` decides.
_PHONE = re.compile(r"(?<![\w.:/+%-])(?:\+|%2[Bb])?\(?\d[\d ().-]{6,}\d(?![\w:/])")
_DATE_START = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_DOTTED_QUAD = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
TOKEN_MASK = "pops_[redacted]"  # noqa: S105 (the mask, not a secret)


def redact(text: str) -> str:
    """The text with email addresses, phone numbers and bearer tokens masked."""
    text = _TOKEN.sub(TOKEN_MASK, text)
    text = _BEARER.sub(r"\1 [redacted]", text)
    text = _EMAIL.sub(EMAIL_MASK, text)
    return _PHONE.sub(_mask_phone, text)


def _mask_phone(match: re.Match[str]) -> str:
    candidate = match.group(0)
    # A URL-encoded plus (`%2B`) is a plus, not the digit 2.
    plain = "+" + candidate[3:] if candidate[:3].upper() == "%2B" else candidate
    return PHONE_MASK if _looks_like_phone(plain) else candidate


def _looks_like_phone(candidate: str) -> bool:
    """10 to 15 digits (8 with a leading +), single separators, not a date or an address.

    Long bare numbers (ids, epoch seconds) with 10+ digits are masked too: a false positive
    costs a little readability, a false negative leaks a phone number.
    """
    digits = sum(c.isdigit() for c in candidate)
    fewest = 8 if candidate.startswith("+") else 10
    if not fewest <= digits <= 15:
        return False
    if re.search(r"[ .-]{2,}", candidate) or _DATE_START.match(candidate):
        return False
    return not _DOTTED_QUAD.match(candidate)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in), exception and stack text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: leave it to logging's own report
            return True
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class UTCFormatter(logging.Formatter):
    def converter(self, timestamp: float | None) -> time.struct_time:
        return time.gmtime(timestamp)


def configure_logging(settings: Settings) -> None:
    """Send every logger's records through one stderr handler: our format, redacted.

    Idempotent: calling it again (app factory, then CLI) replaces the handler it installed.
    uvicorn's loggers are made to propagate here; start uvicorn with `log_config=None` so it
    does not install its own handlers over them.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_privacyops", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._privacyops = True  # type: ignore[attr-defined]
    handler.setFormatter(UTCFormatter(FORMAT, DATE_FORMAT))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        # uvicorn.Config sets its own levels; ours (the root's) decides.
        logger.setLevel(logging.NOTSET)
    # Alembic narrates every plugin and step at INFO; `db upgrade` reports the outcome itself.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs every request's full URL at INFO; outbound calls will carry identities.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy.engine").setLevel(
        logging.INFO if settings.database_echo else logging.WARNING
    )
