"""Valid random field values for a section: what the tests and the benchmark feed the codec."""

from __future__ import annotations

import random
from typing import Any

from privacyops.consent.gpp.fields import IntField, IntListField
from privacyops.consent.gpp.registry import SectionSpec


def random_fields(spec: SectionSpec, version: int, rng: random.Random) -> dict[str, Any]:
    """Valid values for every field of `spec` at `version`, optional segments in or out."""
    values: dict[str, Any] = {}
    for segment in spec.layouts[version]:
        for field in segment.fields:
            if isinstance(field, IntField):
                values[field.name] = rng.choice(field.allowed)
            elif isinstance(field, IntListField):
                values[field.name] = [rng.choice(field.allowed) for _ in range(field.count)]
            else:
                values[field.name] = rng.random() < 0.5
        if segment.included:
            values[segment.included] = rng.random() < 0.8
    return values
