"""Privacy Center pages for rights requests: the form, verification, and the status page."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["request pages"], include_in_schema=False)
