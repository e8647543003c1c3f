"""Compare a manifest with the state-law rules and warn where the policy is behind the law.

Warnings, never errors: a policy may lag the law for a while (a new law in force, a right added
by amendment) and still be published; staff must see the gap, with the source to check.
"""

from __future__ import annotations

from datetime import date, timedelta

from privacyops.policy.findings import Finding
from privacyops.policy.manifest import JurisdictionRights, PolicyManifest, Right
from privacyops.rights.jurisdictions import (
    RightRule,
    StateLaw,
    StateRules,
    laws_enacted_not_in_force,
    laws_in_force,
    rules_on,
)

RIGHT_NAMES: dict[Right, str] = {
    Right.confirm: "the right to confirm processing",
    Right.access: "the right of access",
    Right.portability: "the right to data portability",
    Right.deletion: "the right to delete",
    Right.correction: "the right to correct",
    Right.opt_out_sale: "the right to opt out of sale",
    Right.opt_out_sharing: "the right to opt out of sharing for cross-context advertising",
    Right.opt_out_targeted_advertising: "the right to opt out of targeted advertising",
    Right.opt_out_profiling: "the right to opt out of profiling",
    Right.limit_sensitive: "the right to limit the use of sensitive data",
    Right.unsubscribe: "the right to unsubscribe",
    Right.appeal: "the right to appeal",
}

# California calls targeted advertising "sharing" (Cal. Civ. Code 1798.140(ah)); a policy that
# offers either opt-out offers what the other law means.
_SAME_RIGHT: dict[Right, frozenset[Right]] = {
    Right.opt_out_sharing: frozenset({Right.opt_out_sharing, Right.opt_out_targeted_advertising}),
    Right.opt_out_targeted_advertising: frozenset(
        {Right.opt_out_sharing, Right.opt_out_targeted_advertising}
    ),
}

# Laws taking effect within this window are announced ahead.
UPCOMING_WINDOW = timedelta(days=365)

_JURISDICTIONS = ("rights", "jurisdictions")


def check_against_law(manifest: PolicyManifest, on: date) -> list[Finding]:
    """Warnings (never errors) where the policy promises less than the law in force on `on`."""
    return [
        *_unnamed_laws(manifest, on),
        *_rights_behind(manifest, on),
        *_older_minors(manifest, on),
        *_upcoming_laws(manifest, on),
    ]


def named_states(manifest: PolicyManifest) -> set[str]:
    """States whose law the policy speaks to: its jurisdictions, and Nevada's sale notice."""
    states = {j.state for j in manifest.rights.jurisdictions}
    if manifest.rights.nevada_statement or manifest.rights.nevada_sale_notice_list:
        states.add("NV")
    return states


def _law_title(law: StateLaw) -> str:
    return f"the {law.name} ({law.citation})"


def _unnamed_laws(manifest: PolicyManifest, on: date) -> list[Finding]:
    named = named_states(manifest)
    return [
        Finding(_JURISDICTIONS, _unnamed_message(rules), "warning")
        for rules in laws_in_force(on)
        if rules.state not in named
    ]


def _unnamed_message(rules: StateRules) -> str:
    law = rules.law
    # Nevada's sale law is not a comprehensive law: the manifest has its own statement for it.
    where = (
        f"add {rules.state} to rights.jurisdictions"
        if law.comprehensive
        else f"add a statement for {law.state_name} (rights.nevada_statement)"
    )
    return (
        f"{law.state_name}: {_law_title(law)} has been in force since {law.effective}, but the "
        f"policy does not name {law.state_name}; {where} with the rights it grants "
        f"({_right_list(rules.rights)}) (source: {law.source})"
    )


def _right_list(rights: tuple[RightRule, ...] | list[RightRule]) -> str:
    return ", ".join(r.right.value for r in rights if r.certain)


def _rights_behind(manifest: PolicyManifest, on: date) -> list[Finding]:
    findings: list[Finding] = []
    everyone = set(manifest.rights.everyone)
    for index, entry in enumerate(manifest.rights.jurisdictions):
        rules = rules_on(entry.state, on)
        if rules is None:
            continue
        for rule in rules.rights:
            finding = _right_gap(rules, rule, entry, (*_JURISDICTIONS, index), everyone)
            if finding is not None:
                findings.append(finding)
    return findings


def _right_gap(
    rules: StateRules,
    rule: RightRule,
    entry: JurisdictionRights,
    path: tuple[str | int, ...],
    everyone: set[Right],
) -> Finding | None:
    name = rules.law.state_name
    wanted = _SAME_RIGHT.get(rule.right, frozenset({rule.right}))
    excepted = [k for k, e in enumerate(entry.exceptions) if e.right == rule.right]
    offered = wanted & (set(entry.rights) | everyone)
    if not excepted and offered:
        return None
    where: tuple[str | int, ...] = (
        (*path, "exceptions", excepted[0], "right") if excepted else (*path, "rights")
    )
    gap = (
        f"the policy lists it as an exception for {name}"
        if excepted
        else f"the policy does not list it for {name}"
    )
    label = f"{RIGHT_NAMES[rule.right]} ({rule.right.value})"
    if not rule.certain:
        message = (
            f"{name}: {label} is uncertain under {_law_title(rules.law)}: {rule.note}; {gap}; "
            f"honouring it is recommended (source: {rule.source})"
        )
    else:
        since = rule.effective_from or rules.law.effective
        message = f"{name} has granted {label} since {since}, but {gap} (source: {rule.source})"
    return Finding(where, message, "warning")


def _older_minors(manifest: PolicyManifest, on: date) -> list[Finding]:
    threshold = manifest.children.age_threshold
    reaching = []
    for rules in laws_in_force(on):
        minors = rules.minors_rule()
        if minors is not None and minors.under_age > threshold:
            reaching.append((rules.law, minors))
    if not reaching:
        return []
    oldest = max(minors.under_age for _, minors in reaching)
    details = "; ".join(
        f"{law.state_name} ({minors.describe()}; source: {minors.source})"
        for law, minors in sorted(reaching, key=lambda pair: pair[0].state_name)
    )
    return [
        Finding(
            ("children", "age_threshold"),
            f"the children's rule covers children under {threshold}, but state laws in force on "
            f"{on} also protect {_ages(threshold, oldest)} from sale and targeted advertising: "
            f"{details}",
            "warning",
        )
    ]


def _ages(youngest: int, under: int) -> str:
    """`16- and 17-year-olds` for ages 16 up to (not including) 18."""
    ages = [f"{age}-" for age in range(youngest, under)]
    listed = ", ".join(ages[:-1]) + f" and {ages[-1]}" if len(ages) > 1 else ages[0]
    return f"{listed}year-olds"


def _upcoming_laws(manifest: PolicyManifest, on: date) -> list[Finding]:
    named = named_states(manifest)
    return [
        Finding(
            _JURISDICTIONS,
            f"{law.state_name}: {_law_title(law)} takes effect on {law.effective} and the policy "
            f"does not name {law.state_name} yet (source: {law.source})",
            "warning",
        )
        for law in laws_enacted_not_in_force(on)
        if law.effective <= on + UPCOMING_WINDOW and law.state not in named
    ]
