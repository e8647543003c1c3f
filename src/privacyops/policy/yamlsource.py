"""YAML documents that remember where each value stands, so problems can name file and line.

Shared by every YAML input of the platform (policy manifests now, dataset declarations later).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from privacyops.errors import FieldProblem

Path = tuple[str | int, ...]


def path_to_field(path: Sequence[str | int]) -> str:
    """`("purposes", 3, "data_categories", 1)` -> `purposes[3].data_categories[1]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


@dataclass
class YamlDocument:
    """Parsed data plus the composed node tree, for line look-ups."""

    filename: str
    data: Any
    root: yaml.Node | None

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """1-based line of the deepest node on `path` that exists (a missing key: its parent)."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for part in path:
            node = _child(node, part)
            if node is None:
                break
            line = node.start_mark.line + 1
        return line

    def problem(
        self, path: Sequence[str | int], message: str, severity: str = "error"
    ) -> FieldProblem:
        return FieldProblem(
            field=path_to_field(path),
            message=message,
            line=self.line_of(path),
            file=self.filename,
            severity="warning" if severity == "warning" else "error",
        )


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                found: yaml.Node = value
                return found
    if (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        item: yaml.Node = node.value[part]
        return item
    return None


# libyaml's parser when PyYAML was built with it (its wheels are): the same nodes, much faster.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _construct(root: yaml.Node | None) -> Any:
    """Python data from the composed tree, so the text is parsed once, not twice."""
    if root is None:
        return None
    return yaml.SafeLoader("").construct_document(root)


def parse_yaml(text: str, filename: str) -> tuple[YamlDocument | None, list[FieldProblem]]:
    """Parse one YAML document; malformed YAML and duplicate keys come back as problems."""
    try:
        root = yaml.compose(text, Loader=_LOADER)
        data = _construct(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [
            FieldProblem(
                field="(yaml)", message=f"malformed YAML: {reason}", line=line, file=filename
            )
        ]
    doc = YamlDocument(filename=filename, data=data, root=root)
    return doc, _duplicate_keys(root, (), doc)


def _duplicate_keys(node: yaml.Node | None, path: Path, doc: YamlDocument) -> list[FieldProblem]:
    # PyYAML keeps the last of two equal keys silently; a policy must not lose a statement so.
    problems: list[FieldProblem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                problems.append(
                    FieldProblem(
                        field=path_to_field((*path, name)),
                        message="duplicate key: the same key appears twice in this mapping",
                        line=key.start_mark.line + 1,
                        file=doc.filename,
                    )
                )
            seen.add(name)
            problems += _duplicate_keys(value, (*path, name), doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, (*path, index), doc)
    return problems
