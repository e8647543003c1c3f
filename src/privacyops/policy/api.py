"""JSON API for the policy: /api/v1/policy and its versions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/policy", tags=["policy"])
