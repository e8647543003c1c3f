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
from privacyops.policy.manifest import KEY_PATTERN, PolicyManifest
from privacyops.policy.validation import check_document, check_manifest
from privacyops.policy.yamlsource import Path as DocPath
from privacyops.policy.yamlsource import parse_yaml

# The pattern of manifest.FidesKey, to explain a mismatch in words.
_FIDES_KEY_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"

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
    if doc.data is None:
        problems.append(doc.problem((), "the file is empty: a policy manifest is a YAML mapping"))
        return LoadedManifest(filename, text, None, problems)
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), "a policy manifest must be a YAML mapping"))
        return LoadedManifest(filename, text, None, problems)
    try:
        manifest = PolicyManifest.model_validate(doc.data)
    except ValidationError as exc:
        # Structure is wrong somewhere; the consistency checks still run on the raw data so
        # that the file's other problems are reported in the same pass.
        structural = structural_problems(exc, doc.data)
        findings = [f for f in check_document(doc.data) if not _covered(f.path, structural)]
        problems += [doc.problem(path, message) for path, message in structural]
        problems += [doc.problem(f.path, f.message, f.severity) for f in findings]
        return LoadedManifest(filename, text, None, in_reading_order(problems))
    findings = check_manifest(manifest)
    problems += [doc.problem(f.path, f.message, f.severity) for f in findings]
    if law_check is not None:
        warnings = law_check(manifest, on or date.today())
        problems += [doc.problem(f.path, f.message, f.severity) for f in warnings]
    return LoadedManifest(filename, text, manifest, in_reading_order(problems))


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


def structural_problems(exc: ValidationError, data: object) -> list[tuple[DocPath, str]]:
    """Pydantic's errors as (path, message), one per value: the alternatives of a union
    (`P3Y` or `session`) become one message."""
    merged: dict[DocPath, str] = {}
    for error in exc.errors(include_url=False):
        path = _data_path(error["loc"], data)
        message = _explain(error)
        if path not in merged:
            merged[path] = message
        elif error.get("type") == "literal_error":
            expected = (error.get("ctx") or {}).get("expected", "")
            merged[path] += f", nor {expected}"
        elif merged[path] != message:
            merged[path] += f"; {message}"
    return list(merged.items())


def _data_path(loc: tuple[int | str, ...], data: object) -> DocPath:
    """The error's location in the document, without the tags Pydantic adds for the branches
    of a union (`function-after[...]`, `literal['session']`): a name under a value that is not
    a mapping is such a tag."""
    path: list[str | int] = []
    node: object = data
    for part in loc:
        if isinstance(part, str) and node is not None and not isinstance(node, dict):
            continue
        path.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(path)


def _covered(path: DocPath, structural: list[tuple[DocPath, str]]) -> bool:
    """Whether a structural problem already concerns this value (or the value holding it)."""
    return any(bad and path[: len(bad)] == bad for bad, _ in structural)


def in_reading_order(problems: list[FieldProblem]) -> list[FieldProblem]:
    """Errors by line, as someone fixing the file reads it; then warnings, in their order."""
    errors = [p for p in problems if p.severity == "error"]
    errors.sort(key=lambda p: p.line or 0)
    return errors + [p for p in problems if p.severity == "warning"]


def _explain(error: ErrorDetails) -> str:
    kind = error.get("type")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (not part of the manifest format)"
    if kind == "string_pattern_mismatch":
        return _pattern_message(error)
    if kind == "int_parsing":
        return f"{error.get('input')!r} is not a whole number"
    if kind == "bool_parsing":
        return f"{error.get('input')!r} is not true or false"
    message = str(error.get("msg", "invalid value"))
    # Pydantic prefixes custom validator messages with "Value error, ".
    return message.removeprefix("Value error, ")


def _pattern_message(error: ErrorDetails) -> str:
    value = error.get("input")
    pattern = (error.get("ctx") or {}).get("pattern")
    if pattern == KEY_PATTERN:
        return (
            f"{value!r} is not a valid key: use lowercase letters, digits and underscores, "
            "starting with a letter"
        )
    if pattern == _FIDES_KEY_PATTERN:
        return (
            f"{value!r} is not a valid fideslang key: lowercase names separated by dots, "
            "such as user.contact.email"
        )
    return f"{value!r} does not have the expected format ({pattern})"
