"""Log hygiene: one format, and personal data or secrets that slip into a record are masked."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from privacyops.logs import RedactingFilter, configure_logging, redact
from privacyops.settings import Settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("login for alice@example.com failed", "login for [email] failed"),
        ("from alice.smith+tag@mail.example.co.uk", "from [email]"),
        ("GET /unsubscribe?e=alice%40example.com HTTP/1.1", "GET /unsubscribe?e=[email] HTTP/1.1"),
        ("call +1 (555) 123-4567 now", "call [phone] now"),
        ("phone 555-123-4567.", "phone [phone]."),
        ("tel 5551234567", "tel [phone]"),
        ("x 555.123.4567", "x [phone]"),
        ("+44 20 7946 0958", "[phone]"),
        ("?phone=%2B15551234567&x=1", "?phone=[phone]&x=1"),
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [redacted]"),
        ("token pops_AbC123_xyz-9 created", "token pops_[redacted] created"),
    ],
)
def test_personal_data_and_tokens_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "at 2026-11-27 12:00:00",
        "2026-11-27T12:00:00.123456Z",
        "client 192.168.100.100:8000",
        "client 10.0.0.1",
        "event 42 of 1000000",
        "took 12.345 ms on port 8000",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "hash " + "0" * 64,
        "staff:12 changed request:3456",
    ],
)
def test_ordinary_log_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Restore the root logger and uvicorn's loggers after configure_logging."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    uvicorn = logging.getLogger("uvicorn.access")
    saved_uvicorn = (list(uvicorn.handlers), uvicorn.propagate)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    uvicorn.handlers[:] = saved_uvicorn[0]
    uvicorn.propagate = saved_uvicorn[1]


def ours(stream: io.StringIO) -> None:
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_privacyops", False))
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)


@pytest.mark.usefixtures("root_logging")
def test_configured_logging_formats_and_redacts(tmp_path: Path) -> None:
    configure_logging(Settings(data_dir=tmp_path, log_level="INFO"))
    configure_logging(Settings(data_dir=tmp_path, log_level="INFO"))  # idempotent
    handlers = [h for h in logging.getLogger().handlers if getattr(h, "_privacyops", False)]
    assert len(handlers) == 1
    stream = io.StringIO()
    ours(stream)
    log = logging.getLogger("privacyops.test")
    log.debug("not shown")
    log.info("mail to %s with %s", "bob@example.org", "pops_secret123")
    logging.getLogger("uvicorn.access").info('GET /x?email=bob%40example.org HTTP/1.1" 200')
    try:
        raise ValueError("duplicate key bob@example.org")
    except ValueError:
        log.exception("insert failed for %s", "+1 555 123 4567")
    text = stream.getvalue()
    assert "bob" not in text
    assert "pops_secret" not in text
    assert "555 123" not in text
    assert "not shown" not in text
    lines = text.splitlines()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO privacyops\.test: "
        r"mail to \[email\] with pops_\[redacted\]",
        lines[0],
    )
    assert "uvicorn.access: GET /x?email=[email]" in lines[1]
    assert "ValueError: duplicate key [email]" in text


@pytest.mark.usefixtures("root_logging")
def test_level_comes_from_settings(tmp_path: Path) -> None:
    configure_logging(Settings(data_dir=tmp_path, log_level="WARNING"))
    stream = io.StringIO()
    ours(stream)
    logging.getLogger("privacyops.test").info("quiet")
    logging.getLogger("privacyops.test").warning("loud")
    assert "quiet" not in stream.getvalue()
    assert "WARNING privacyops.test: loud" in stream.getvalue()


def test_filter_survives_a_malformed_call() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s %s", ("one",), None)
    assert RedactingFilter().filter(record)
