"""Load a policy manifest from YAML: parse, validate structure, check consistency, check the law.

Nothing here raises on bad input: the result carries every problem with file, line and field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from privacyops.errors import FieldProblem
from privacyops.policy.findings import Finding
from privacyops.policy.manifest import PolicyManifest
from privacyops.policy.validation import check_manifest
from privacyops.policy.yamlsource import YamlDocument, parse_yaml

# Hook for checks against the state-law rules; registered by privacyops.policy.lawcheck so
# that the loader does not depend on the law tables.
LawCheck = Callable[[PolicyManifest, date], list[Finding]]


@dataclass
class LoadedManifest:
    filename: str
    text: str
    manifest: PolicyManifest | None
    problems: list[FieldProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[FieldProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[FieldProblem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.errors


def load_manifest_text(
    text: str,
    filename: str = "<manifest>",
    *,
    law_check: LawCheck | None = None,
    on: date | None = None,
) -> LoadedManifest:
    doc, problems = parse_yaml(text, filename)
    if doc is None:
        return LoadedManifest(filename, text, None, problems)
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), "a policy manifest must be a YAML mapping"))
        return LoadedManifest(filename, text, None, problems)
    try:
        manifest = PolicyManifest.model_validate(doc.data)
    except ValidationError as exc:
        problems += _pydantic_problems(exc, doc)
        return LoadedManifest(filename, text, None, problems)
    findings = check_manifest(manifest)
    if law_check is not None:
        findings += law_check(manifest, on or date.today())
    problems += [doc.problem(f.path, f.message, f.severity) for f in findings]
    return LoadedManifest(filename, text, manifest, problems)


def load_manifest_file(
    path: Path, *, law_check: LawCheck | None = None, on: date | None = None
) -> LoadedManifest:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _unreadable(name, "file not found")
    except IsADirectoryError:
        return _unreadable(name, "is a directory, not a manifest file")
    except UnicodeDecodeError:
        return _unreadable(name, "is not UTF-8 text")
    except OSError as exc:
        return _unreadable(name, f"cannot be read: {exc.strerror}")
    return load_manifest_text(text, name, law_check=law_check, on=on)


def _unreadable(name: str, message: str) -> LoadedManifest:
    return LoadedManifest(name, "", None, [FieldProblem("(file)", message, None, name)])


def _pydantic_problems(exc: ValidationError, doc: YamlDocument) -> list[FieldProblem]:
    problems = []
    for error in exc.errors(include_url=False):
        path = tuple(part for part in error["loc"] if isinstance(part, str | int))
        problems.append(doc.problem(path, _explain(error)))
    return problems


def _explain(error: ErrorDetails) -> str:
    kind = error.get("type")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (not part of the manifest format)"
    message = str(error.get("msg", "invalid value"))
    # Pydantic prefixes custom validator messages with "Value error, ".
    return message.removeprefix("Value error, ")
