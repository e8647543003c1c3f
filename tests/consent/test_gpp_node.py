"""Cross-check of our GPP codec with IAB's own @iabgpp/cmpapi, run under node.

Strings we encode must decode to the same fields under node, and strings node encodes must be
the very strings we encode and decode to the same fields here. The field layouts themselves are
compared with the installed package, so a change of the pinned version that moves a field
fails here first. These tests need `npm ci --prefix js`; without it they fail (never skip).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from typing import Any

import pytest

from privacyops.consent.gpp import SPECS, STATE_SECTIONS, decode, encode, usnat_for_choices
from privacyops.consent.gpp.fields import BoolField, IntField, IntListField
from privacyops.consent.gpp.registry import SectionSpec
from tests.conftest import REPO_ROOT
from tests.consent.test_gpp import all_layouts, expected_fields, random_fields

JS_DIR = REPO_ROOT / "js"
SCRIPT = JS_DIR / "gpp-check.mjs"
PACKAGE = JS_DIR / "node_modules" / "@iabgpp" / "cmpapi" / "package.json"
INSTALL = "run `npm ci --prefix js` (the Makefile's setup step does it)"
SAMPLES_PER_LAYOUT = 60

VECTORS = [
    "DBACNYA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN",
    "DBACNY~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN",
    "DBABLA~CVVVkkkkkpFY.YA",
    "DBABLA~CAAAAAAAAABA.QA",
    "DBABLA~BAAAVVVVUQA.QA",
    "DBABLA~CAAAVVVVVVRA.QA",
    "DBABBg~BVWSSSVY.YA",
]


def run_node(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send the requests to one node process running js/gpp-check.mjs; its answers, in order."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"node is not on PATH: install Node.js 20 or later, then {INSTALL}")
    if not PACKAGE.exists():
        pytest.fail(f"@iabgpp/cmpapi is not installed in js/node_modules: {INSTALL}")
    version = json.loads(PACKAGE.read_text(encoding="utf-8"))["version"]
    if not version.startswith("3.2."):
        pytest.fail(f"js/node_modules has @iabgpp/cmpapi {version}, not 3.2.x: {INSTALL}")
    completed = subprocess.run(
        [node, str(SCRIPT)],
        input="".join(json.dumps(request) + "\n" for request in requests),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=JS_DIR,
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(f"js/gpp-check.mjs failed: {completed.stderr[-2000:]}")
    answers = [json.loads(line) for line in completed.stdout.splitlines()]
    assert len(answers) == len(requests)
    return answers


def sample(spec: SectionSpec, version: int, rng: random.Random) -> dict[str, Any]:
    """Random valid values; about a third of the fields left out (defaults apply)."""
    values = random_fields(spec, version, rng)
    kept = {name: value for name, value in values.items() if rng.random() > 0.3}
    kept[spec.version_field] = version
    return kept


def samples() -> list[dict[str, dict[str, Any]]]:
    """Single-section strings for every layout, then mixes of several sections."""
    rng = random.Random(20261203)
    result = [
        {spec.prefix: sample(spec, version, rng)}
        for spec, version in all_layouts()
        for _ in range(SAMPLES_PER_LAYOUT)
    ]
    prefixes = list(SPECS)
    for _ in range(200):
        chosen = rng.sample(prefixes, rng.randint(2, 5))
        result.append(
            {
                prefix: sample(SPECS[prefix], rng.choice(list(SPECS[prefix].layouts)), rng)
                for prefix in chosen
            }
        )
    return result


def implemented(sections: dict[str, Any]) -> dict[str, Any]:
    return {prefix: fields for prefix, fields in sections.items() if prefix in SPECS}


def test_field_layouts_match_the_installed_library() -> None:
    (answer,) = run_node([{"op": "layout", "prefixes": list(SPECS)}])
    assert answer["ok"], answer
    for prefix, spec in SPECS.items():
        library = answer["sections"][prefix]
        assert (library["id"], library["version"]) == (spec.id, spec.current_version), prefix
        ours = spec.layouts[spec.current_version]
        assert len(library["segments"]) == len(ours), prefix
        for theirs, segment in zip(library["segments"], ours, strict=True):
            written = [field for field in theirs if field["written"]]
            assert [field["name"] for field in written] == [f.name for f in segment.fields]
            for field, mine in zip(written, segment.fields, strict=True):
                assert describe(mine) == {
                    key: field[key] for key in ("type", "width", "count", "default")
                }, f"{prefix}.{mine.name}"
                if field["allowed"] is not None:
                    assert list(allowed(mine)) == field["allowed"], f"{prefix}.{mine.name}"
            virtual = [field["name"] for field in theirs if not field["written"]]
            assert virtual == ([segment.included] if segment.included else []), prefix


def describe(field: IntField | IntListField | BoolField) -> dict[str, Any]:
    if isinstance(field, IntField):
        return {"type": "int", "width": field.width, "count": None, "default": field.default}
    if isinstance(field, IntListField):
        return {
            "type": "list",
            "width": field.width,
            "count": field.count,
            "default": field.default_value(),
        }
    return {"type": "bool", "width": 1, "count": None, "default": field.default}


def allowed(field: IntField | IntListField | BoolField) -> range:
    assert not isinstance(field, BoolField)
    return field.allowed


def test_strings_we_encode_decode_identically_under_node() -> None:
    texts = [encode(sections) for sections in samples()]
    texts += VECTORS
    texts += [
        usnat_for_choices(sale, sharing, targeted, gpc, state=state)
        for state in [None, *STATE_SECTIONS]
        for sale, sharing, targeted, gpc in [(True, False, None, False), (False, False, True, True)]
    ]
    answers = run_node([{"op": "decode", "gpp": text} for text in texts])
    for text, answer in zip(texts, answers, strict=True):
        assert answer["ok"], (text, answer)
        ours = decode(text)
        assert answer["sectionIds"] == ours.section_ids, text
        assert implemented(answer["sections"]) == implemented(ours.to_dict()), text


def test_strings_node_encodes_are_ours_and_decode_identically() -> None:
    cases = samples()
    answers = run_node([{"op": "encode", "sections": sections} for sections in cases])
    for sections, answer in zip(cases, answers, strict=True):
        assert answer["ok"], (sections, answer)
        text = answer["gpp"]
        assert text == encode(sections), sections
        gpp = decode(text, strict=True)
        for prefix, given in sections.items():
            spec = SPECS[prefix]
            version = given[spec.version_field]
            assert gpp[prefix].fields == expected_fields(spec, version, given), text


def test_node_rejects_what_we_reject_as_out_of_range() -> None:
    # Both sides refuse MspaCoveredTransaction 0 when encoding.
    (answer,) = run_node([{"op": "encode", "sections": {"usnat": {"MspaCoveredTransaction": 0}}}])
    assert not answer["ok"]
    with pytest.raises(ValueError, match=r"usnat\.MspaCoveredTransaction"):
        encode({"usnat": {"MspaCoveredTransaction": 0}})
