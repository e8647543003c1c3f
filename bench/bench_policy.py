"""Policy benchmarks: the cost of checking a manifest and of serving the policy.

Baselines, measured in the same run:
- checking a manifest against parsing its YAML alone (what validation adds);
- serving /policy and /api/v1/policy against /healthz of the same app (what rendering adds).
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from bench.harness import Result, compare
from privacyops.app import create_app
from privacyops.migrate import upgrade
from privacyops.policy.bootstrap import publish_default_policy
from privacyops.policy.lawcheck import check_against_law
from privacyops.policy.loader import load_manifest_text
from privacyops.settings import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "miniso-usa" / "policy.yaml"


def run() -> list[Result]:
    text = EXAMPLE.read_text(encoding="utf-8")
    results = [
        compare(
            "policy check (parse, validate, law check)",
            lambda: load_manifest_text(text, "policy.yaml", law_check=check_against_law),
            "parsing the same file with libyaml",
            lambda: yaml.load(text, Loader=yaml.CSafeLoader),
        )
    ]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp), default_policy_file=EXAMPLE, scheduler_enabled=False
        )
        upgrade(settings.effective_database_url)
        publish_default_policy(settings, today=date.today())
        with TestClient(create_app(settings)) as client:

            def health() -> object:
                return client.get("/healthz")

            results.append(
                compare(
                    "GET /policy (rendered)", lambda: client.get("/policy"), "GET /healthz", health
                )
            )
            results.append(
                compare(
                    "GET /api/v1/policy",
                    lambda: client.get("/api/v1/policy"),
                    "GET /healthz",
                    health,
                )
            )
    return results
