"""Privacy Center pages: home, the policy in force, older versions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["pages"], include_in_schema=False)
