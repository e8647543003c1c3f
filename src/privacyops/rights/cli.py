"""`privacyops rules ...`: the state-law rules as the platform applies them."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated

import typer

from privacyops.errors import FieldProblem, InvalidInput, PrivacyOpsError
from privacyops.policy.loader import load_manifest_file
from privacyops.policy.manifest import PolicyManifest
from privacyops.policy.states import state_name
from privacyops.rights import calendar
from privacyops.rights.jurisdictions import (
    AgentScope,
    RightRule,
    RightScope,
    StateLaw,
    StateRules,
    all_laws,
    law_for,
    rules_on,
)
from privacyops.rights.rules import (
    OPT_OUT_BUSINESS_DAYS,
    OPT_OUT_SOURCE,
    Basis,
    Decision,
    decide_all,
    normalise_state,
)
from privacyops.settings import get_settings

rules_app = typer.Typer(help="State privacy-law rules for rights requests.", no_args_is_help=True)

_SCOPES: dict[RightScope, str] = {
    RightScope.all: "",
    RightScope.provided_by_consumer: "only data the consumer provided",
    RightScope.provided_or_obtained: "data provided by or obtained about the consumer",
    RightScope.copy_or_summary: "a copy or a representative summary",
}

_AGENTS: dict[AgentScope, str] = {
    AgentScope.all_requests: "allowed for every request",
    AgentScope.opt_out_only: "allowed for opt-out requests only",
    AgentScope.none: "not provided for",
    AgentScope.unclear: "scope unclear; accepted for opt-out requests only",
}

OnOption = Annotated[
    str | None, typer.Option("--on", help="Rules in force on this day (YYYY-MM-DD; default today).")
]


def _day(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        message = f"--on: {value!r} is not a date (use YYYY-MM-DD)"
        raise InvalidInput(message, [FieldProblem("on", message)]) from None


def _policy(path: Path) -> PolicyManifest:
    loaded = load_manifest_file(path)
    if loaded.manifest is None or not loaded.ok:
        raise PrivacyOpsError(
            f"{path}: {len(loaded.errors)} error(s) in the policy; "
            f"see `privacyops policy check {path}`"
        )
    return loaded.manifest


@rules_app.command("show")
def show(
    state: Annotated[str, typer.Argument(help="Two-letter state code, e.g. CA.")],
    on: OnOption = None,
    policy_file: Annotated[
        Path | None,
        typer.Option("--policy", help="Policy manifest (default: settings.default_policy_file)."),
    ] = None,
) -> None:
    """Print STATE's rules in force on a day, each with its source, and the requests accepted."""
    code = normalise_state(state)
    day = _day(on)
    policy = _policy(policy_file or get_settings().default_policy_file)
    rules = rules_on(code, day)
    lines = [f"{state_name(code)} ({code}) on {day}"]
    law = law_for(code)
    if rules is not None:
        lines += _law_lines(rules)
    elif law is not None:
        lines.append(
            f"{law.name} ({law.short_name}, {law.citation}) takes effect on {law.effective}: "
            f"not in force on {day}."
        )
        lines.append(f"  source: {law.source}")
    else:
        lines.append(
            f"No state privacy law is in force in {state_name(code)} on {day}: residents get "
            "what the policy offers everyone."
        )
    lines += _request_lines(code, day, policy, rules)
    typer.echo("\n".join(lines))


def _law_lines(rules: StateRules) -> list[str]:
    law = rules.law
    lines = [
        f"Law: {law.name} ({law.short_name}), {law.citation}, in force since {law.effective}",
        f"  source: {law.source}",
    ]
    if law.applies_to:
        lines.append(f"  applies to: {law.applies_to}")
    lines.append("Rights granted by the law:")
    lines += [_right_line(rule) for rule in rules.rights]
    later = [r for r in law.rights if r not in rules.rights]
    if later:
        lines.append("Rights that start later:")
        lines += [_right_line(rule) for rule in later]
    lines += _procedure_lines(rules)
    return lines


def _right_line(rule: RightRule) -> str:
    terms = [t for t in (_SCOPES[rule.scope], rule.note) if t]
    if rule.max_per_year is not None:
        terms.append(f"at most {rule.max_per_year} per year")
    if rule.effective_from is not None:
        terms.append(f"from {rule.effective_from}")
    if not rule.certain:
        terms.append("uncertain: not counted as granted")
    detail = f" ({'; '.join(terms)})" if terms else ""
    return f"  {rule.right.value}{detail} - {rule.source}"


def _procedure_lines(rules: StateRules) -> list[str]:
    law = rules.law
    appeal = law.appeal
    if appeal.days is None:
        appeal_text = "no appeal duty"
    else:
        extension = f", extension {appeal.extension_days} days" if appeal.extension_days else ""
        appeal_text = f"{appeal.days} days{extension}"
    lines = [
        f"Response: {law.response.days} days, extension {law.response.extension_days} days"
        f" - {law.response.source}",
        f"Opt-outs: {OPT_OUT_BUSINESS_DAYS} business days, no extension - {OPT_OUT_SOURCE}",
        f"Appeal: {appeal_text} - {appeal.source}",
        f"Universal opt-out (GPC): {_universal_opt_out(law, rules.on)}"
        f" - {law.universal_opt_out.source}",
    ]
    minors = [f"  {m.describe()} - {m.source}" for m in rules.minors]
    lines += ["Minors:", *minors] if minors else ["Minors: no rule in the table"]
    free = law.free_requests
    free_text = f"{free.per_12_months} per 12 months" if free.per_12_months else "no limit stated"
    if free.note:
        free_text += f" ({free.note})"
    lines.append(f"Free requests: {free_text} - {free.source}")
    agent = law.authorized_agent
    agent_text = _AGENTS[agent.scope] + (f" ({agent.note})" if agent.note else "")
    lines.append(f"Authorized agents: {agent_text} - {agent.source}")
    if law.consent_revocation is not None:
        revocation = law.consent_revocation
        lines.append(f"Consent revocation: within {revocation.days} days - {revocation.source}")
    return lines


def _universal_opt_out(law: StateLaw, on: date) -> str:
    required_from = law.universal_opt_out.required_from
    if required_from is None:
        return "not required"
    if required_from <= on:
        return f"required since {required_from}"
    return f"required from {required_from}"


def _request_lines(
    state: str, day: date, policy: PolicyManifest, rules: StateRules | None
) -> list[str]:
    received_at = datetime.combine(day, time(12), tzinfo=calendar.state_zone(state))
    decisions = decide_all(state, received_at, policy)
    heading = f"Requests accepted from {state_name(state)} residents on {day} ({policy.title}):"
    if rules is None:
        heading = (
            f"Requests accepted from {state_name(state)} residents on {day}, under the policy "
            f"only ({policy.title}):"
        )
    lines = [heading]
    lines += [_decision_line(d) for d in decisions if d.allowed]
    refused = [d for d in decisions if not d.allowed]
    if refused:
        lines.append("Refused:")
        lines += [f"  {d.request_type.value}: {d.reason}" for d in refused]
    return lines


def _decision_line(decision: Decision) -> str:
    deadline = decision.deadline
    if deadline is None:  # never for an allowed decision
        return f"  {decision.request_type.value}: {decision.reason}"
    unit = "business days" if deadline.business_days else "days"
    extension = f", extension {deadline.extension_days}" if deadline.extension_days else ""
    basis = "state law" if decision.basis is Basis.state_law else "policy"
    appeal = f"appeal {decision.appeal_days} days" if decision.appeal_days else "no appeal"
    agent = "agents allowed" if decision.agent_allowed else "no agents"
    return (
        f"  {decision.request_type.value}: {basis}; {deadline.days} {unit}{extension} "
        f"(due {deadline.due_on}); verification {decision.verification.value}; {appeal}; {agent}"
    )


@rules_app.command("list")
def list_laws(on: OnOption = None) -> None:
    """One line per law in the table: state, name, effective date, in force or not."""
    day = _day(on)
    for law in sorted(all_laws(), key=lambda item: (item.effective, item.state)):
        status = "in force" if law.in_force(day) else "not yet in force"
        kind = "" if law.comprehensive else " [not comprehensive]"
        typer.echo(f"{law.state}  {law.name}{kind}  effective {law.effective}  {status}")
