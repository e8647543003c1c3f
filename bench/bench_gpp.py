"""GPP benchmark: our Python codec against IAB's @iabgpp/cmpapi under node, per string.

Inputs: BENCH_GPP_STRINGS strings (default 2,000) of the kind the platform emits, usnat v2 plus
one state section with random valid field values (seeded), and the same sections as field
mappings for encoding.

- decode: ours `decode(s)` (header and every field of every section) against node's
  `new GppModel(s).toObject()`, which reads the same;
- encode: ours `encode(sections)` (every field checked) against node's `new GppModel()`, one
  `setFieldValue` per field (each checked by the library's validators), then `encode()`.

Fair to both sides: one node process (js/gpp-check.mjs, op "time") times its side with
performance.now, after a warm-up round, as the median of BENCH_ROUNDS rounds over all strings;
ours is timed the same way with perf_counter, before and after node's turn (the faster kept, as
bench.harness.compare does). Process start and JSON transfer are outside every timing. Before
timing, the bench checks that node encodes exactly our strings; a difference stops it.

Target: a ratio of at most 1.0 (at least as fast per string). Needs `npm ci --prefix js`.
Run alone with `python -m bench.bench_gpp`; `make bench` runs it with the others.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.harness import Result
from privacyops.consent.gpp import SPECS, STATE_SECTIONS, decode, encode
from privacyops.consent.gpp.samples import random_fields

JS_DIR = Path(__file__).resolve().parent.parent / "js"
SCRIPT = JS_DIR / "gpp-check.mjs"
INSTALL = "run `npm ci --prefix js` (the Makefile's setup step does it)"


def inputs(count: int) -> list[dict[str, dict[str, Any]]]:
    rng = random.Random(6)  # noqa: S311 - sample data, not secrets
    states = sorted(STATE_SECTIONS)
    return [
        {
            "usnat": random_fields(SPECS["usnat"], SPECS["usnat"].current_version, rng),
            (spec := STATE_SECTIONS[rng.choice(states)]).prefix: random_fields(
                spec, spec.current_version, rng
            ),
        }
        for _ in range(count)
    ]


def _python_per_string(work: Callable[[Any], object], items: Sequence[Any], rounds: int) -> float:
    for item in items:
        work(item)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            work(item)
        times.append((time.perf_counter() - start) / len(items))
    return statistics.median(times)


def _node(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "@iabgpp" / "cmpapi").is_dir():
        raise RuntimeError(f"bench_gpp needs node and @iabgpp/cmpapi: {INSTALL}")
    completed = subprocess.run(  # noqa: S603 - our own script, no shell
        [node, str(SCRIPT)],
        input="".join(json.dumps(request) + "\n" for request in requests),
        capture_output=True,
        text=True,
        cwd=JS_DIR,
        check=True,
    )
    answers = [json.loads(line) for line in completed.stdout.splitlines()]
    for answer in answers:
        if not answer.get("ok"):
            raise RuntimeError(f"js/gpp-check.mjs: {answer.get('error')}")
    return answers


def run() -> list[Result]:
    count = int(os.environ.get("BENCH_GPP_STRINGS", "2000"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "7"))
    sections = inputs(count)
    strings = [encode(item) for item in sections]
    checks = _node([{"op": "encode", "sections": item} for item in sections[:200]])
    if [answer["gpp"] for answer in checks] != strings[:200]:
        raise RuntimeError("node and Python encode different strings: fix that before timing")

    ours_before = (
        _python_per_string(decode, strings, rounds),
        _python_per_string(encode, sections, rounds),
    )
    (timed,) = _node([{"op": "time", "decode": strings, "encode": sections, "rounds": rounds}])
    ours_after = (
        _python_per_string(decode, strings, rounds),
        _python_per_string(encode, sections, rounds),
    )
    baseline = "@iabgpp/cmpapi 3.2 under node"
    return [
        Result(
            "GPP decode (usnat + a state), per string",
            baseline,
            min(ours_before[0], ours_after[0]),
            timed["decodeSeconds"],
        ),
        Result(
            "GPP encode (usnat + a state), per string",
            baseline,
            min(ours_before[1], ours_after[1]),
            timed["encodeSeconds"],
        ),
    ]


def main() -> None:
    print(f"{'benchmark':<44} {'ratio':>8}  baseline")
    for result in run():
        print(result.line(), flush=True)


if __name__ == "__main__":
    main()
