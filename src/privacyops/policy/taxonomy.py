"""fideslang's default taxonomy, plus the keys a manifest declares itself, as sets of known keys.

Loading fideslang's taxonomy takes a noticeable fraction of a second, so the key sets are built
once, on first use.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache


class TaxonomyKind(StrEnum):
    data_category = "data category"
    data_use = "data use"
    data_subject = "data subject"


# Special categories of personal data (section 1 of the reference policy; GDPR art. 9 and the
# "sensitive data" definitions of the state laws, e.g. Va. Code 59.1-575). A descendant of any
# of these keys is special too.
SPECIAL_CATEGORY_KEYS: frozenset[str] = frozenset(
    {
        "user.demographic.race_ethnicity",
        "user.demographic.religious_belief",
        "user.demographic.sexual_orientation",
        "user.demographic.political_opinion",
        "user.health_and_medical",
        "user.biometric",
        "user.authorization.biometric",
        "user.criminal_history",
    }
)

# Data uses that identify or authenticate a person: a special category used for one of these is
# "used for identification", which section 1 of the reference policy rules out.
IDENTIFICATION_USE_KEYS: frozenset[str] = frozenset(
    {"essential.service.authentication", "essential.fraud_detection"}
)


def is_under(key: str, roots: Iterable[str]) -> bool:
    """Whether `key` is one of `roots` or a descendant of one."""
    return any(key == root or key.startswith(root + ".") for root in roots)


@dataclass(frozen=True)
class Taxonomy:
    data_categories: frozenset[str]
    data_uses: frozenset[str]
    data_subjects: frozenset[str]

    def keys(self, kind: TaxonomyKind) -> frozenset[str]:
        if kind is TaxonomyKind.data_category:
            return self.data_categories
        if kind is TaxonomyKind.data_use:
            return self.data_uses
        return self.data_subjects

    def knows(self, kind: TaxonomyKind, key: str) -> bool:
        return key in self.keys(kind)

    def closest(self, kind: TaxonomyKind, key: str) -> str | None:
        """The known key most like `key`, to suggest in a message; None if nothing is close."""
        matches = difflib.get_close_matches(key, sorted(self.keys(kind)), n=1, cutoff=0.6)
        return matches[0] if matches else None

    def extended(self, data_categories: Iterable[str], data_uses: Iterable[str]) -> Taxonomy:
        return Taxonomy(
            data_categories=self.data_categories | frozenset(data_categories),
            data_uses=self.data_uses | frozenset(data_uses),
            data_subjects=self.data_subjects,
        )


@cache
def default_taxonomy() -> Taxonomy:
    """fideslang's default taxonomy, loaded on first use."""
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    return Taxonomy(
        data_categories=frozenset(item.fides_key for item in DEFAULT_TAXONOMY.data_category),
        data_uses=frozenset(item.fides_key for item in DEFAULT_TAXONOMY.data_use),
        data_subjects=frozenset(item.fides_key for item in DEFAULT_TAXONOMY.data_subject),
    )
