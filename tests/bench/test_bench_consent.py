"""The consent benchmark at a tiny size: every side must give the same answer (never timings).

Also the ledger's bulk filter paths the benchmark drives: the indexer against the vault, and
a long list read at once against chunked lookups.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from bench import bench_consent as bench
from privacyops.consent import ledger
from privacyops.db import make_engine, make_session_factory
from privacyops.identity.normalize import IdentityKind
from privacyops.identity.service import reveal_identities
from privacyops.vault.service import Vault

OPT_OUTS, CANDIDATES = 30, 300
FILTERS = ("ledger", "anti-join", "endpoint")


def _options(cache: Path) -> bench.Options:
    url = os.environ.get("PRIVACYOPS_TEST_DATABASE_URL", "sqlite")
    backend = "sqlite" if url == "sqlite" else "postgresql"
    return bench.Options(
        opt_outs=OPT_OUTS,
        candidates=CANDIDATES,
        requests=24,
        clients=1,  # one at a time: SQLite fails concurrent decisions (see the bench's report)
        backends=(backend,),
        rounds=1,
        postgres=url if backend == "sqlite" else _server(url),
        database=f"privacyops_bench_consent_{uuid.uuid4().hex[:10]}",
        cache=cache,
    )


def _server(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bench.Options]:
    chosen = _options(tmp_path_factory.mktemp("bench-consent"))
    yield chosen
    if chosen.backends == ("postgresql",):
        admin = make_engine(chosen.postgres).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{chosen.database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def store(options: bench.Options) -> bench.Store:
    made = bench.store_for(options.backends[0], options)
    bench.prepare(made, options)
    return made


@pytest.fixture(scope="module")
def engine(store: bench.Store) -> Iterator[Engine]:
    made = make_engine(store.url)
    yield made
    made.dispose()


@pytest.fixture(scope="module")
def vault(store: bench.Store) -> Iterator[Vault]:
    with Vault.from_settings(store.settings) as made:
        yield made


@pytest.fixture(scope="module")
def served(store: bench.Store) -> Iterator[tuple[str, dict[str, str]]]:
    headers = {"Authorization": f"Bearer {bench.api_token(store)}"}
    with bench.serving(store.settings) as url:
        yield url, headers


def _filter(engine: Engine, vault: Vault, values: list[str]) -> list[str]:
    with make_session_factory(engine)() as db:
        kept = ledger.allowed_contacts(db, vault, bench.PURPOSE, IdentityKind.email, values)
        return list(kept)


def test_the_people_are_made_as_the_platform_makes_them(
    store: bench.Store, options: bench.Options, engine: Engine, vault: Vault
) -> None:
    opted_out = bench.email_of(bench.opted_out_numbers(options)[3])
    with make_session_factory(engine)() as db:
        who = ledger.person(db, vault, "email", opted_out.upper(), "email")
        assert who is not None
        assert who.subject_id is not None
        assert reveal_identities(db, vault, who.subject_id) == {"email": [opted_out]}
        decided = ledger.decide(db, who, bench.PURPOSE)
        assert (decided.allowed, decided.method) == (False, "import")
        assert ledger.person(db, vault, "email", bench.email_of(1), "email") is None
    assert bench._generated_sizes(store) == (OPT_OUTS, CANDIDATES)


def test_the_ledger_the_endpoint_and_the_anti_join_agree(
    options: bench.Options,
    engine: Engine,
    vault: Vault,
    served: tuple[str, dict[str, str]],
) -> None:
    url, headers = served
    sides = bench.FilterSides(engine, vault, url, headers, bench.filter_input(engine))

    bench.check_filter(sides)  # raises when any two differ

    assert len(sides.given.expected) == CANDIDATES - OPT_OUTS
    assert sorted(sides.anti_join()) == sorted(sides.given.expected)
    assert sides.given.candidates != sorted(sides.given.candidates)  # shuffled, as lists come
    # Not two empty answers: the known opted-out email is out, a neighbour is in.
    assert bench.email_of(bench.opted_out_numbers(options)[1]) not in sides.given.expected
    assert bench.email_of(bench.opted_out_numbers(options)[1] + 1) in sides.given.expected


def test_a_bench_that_disagrees_stops(
    engine: Engine, vault: Vault, served: tuple[str, dict[str, str]]
) -> None:
    url, headers = served
    given = bench.filter_input(engine)
    wrong = bench.FilterInput(given.candidates, given.expected[1:], given.body)
    with pytest.raises(bench.BenchError, match="disagree"):
        bench.check_filter(bench.FilterSides(engine, vault, url, headers, wrong))


def test_decisions_over_http_answer_and_are_measured(
    store: bench.Store, options: bench.Options, served: tuple[str, dict[str, str]]
) -> None:
    url, headers = served
    bench.check_decisions(url, headers, options)  # raises when a decision is not as made

    http = bench.measure_decisions(url, headers, options)

    assert set(http.seconds) == set(bench.SIDES)
    assert all(failed.count == 0 for failed in http.failures.values())
    lines = [r.line() for r in bench.results(store, options, http, dict.fromkeys(FILTERS, 1.0))]
    assert "decision over HTTP" in lines[0]
    assert "target >= 70%" in lines[0]
    assert "for comparison" in lines[1]


def test_a_refused_token_or_a_server_down_stops_the_bench(
    options: bench.Options, served: tuple[str, dict[str, str]]
) -> None:
    url, _ = served
    refused = {"Authorization": "Bearer pops_not-a-token"}
    with pytest.raises(bench.BenchError, match="HTTP 401"):
        bench.check_decisions(url, refused, options)
    nobody = f"http://{bench.HOST}:{bench._free_port()}"
    with pytest.raises(bench.BenchError, match="before the measurement"):
        bench.load(nobody, refused, ["/healthz"], 1, bench.Failures())


def test_failed_requests_are_reported_instead_of_a_ratio(
    store: bench.Store, options: bench.Options, served: tuple[str, dict[str, str]]
) -> None:
    url, headers = served
    failures = bench.Failures()
    bench.load(url, headers, ["/healthz", "/no-such-page", "/healthz"], 1, failures)
    assert (failures.count, failures.first) == (1, "/no-such-page: HTTP 404")

    http = bench.HttpTimes(
        dict.fromkeys(bench.SIDES, 0.001),
        {side: failures if side == "decision" else bench.Failures() for side in bench.SIDES},
    )
    line = bench.results(store, options, http, dict.fromkeys(FILTERS, 1.0))[0].line()
    assert "FAILED" in line
    assert "1 of 24 decision requests (/no-such-page: HTTP 404)" in line


# -- the ledger's bulk filter, as the benchmark drives it -------------------------------------


def test_a_long_list_read_at_once_keeps_the_same_values(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, vault: Vault
) -> None:
    given = bench.filter_input(engine)
    values = [*given.candidates, "not an email"]
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    def selects_of(run: list[str]) -> int:
        return len([s for s in run if s.lstrip().upper().startswith("SELECT")])

    event.listen(engine, "before_cursor_execute", count)
    try:
        chunked = _filter(engine, vault, values)
        monkeypatch.setattr(ledger, "LONG_LIST", 50)
        statements.clear()
        read_at_once = _filter(engine, vault, values)
        at_once = selects_of(statements)
        monkeypatch.setattr(ledger, "MAX_READ_ALL", OPT_OUTS - 1)
        statements.clear()
        too_many = _filter(engine, vault, values)
        fallback = selects_of(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert chunked == read_at_once == too_many == given.expected
    assert at_once == 1  # the opted-out, read once for the whole list
    assert fallback == 2  # more than may be held in memory: read, dropped, then one chunk


def test_the_bulk_indexer_is_the_vaults_blind_index(vault: Vault) -> None:
    emails = ["Ann.Smith@Example.com ", "b+tag@mail.example.org", bench.email_of(12)]
    phones = ["(212) 555-0123", "+1 646 555 0199"]
    for kind, values in ((IdentityKind.email, emails), (IdentityKind.phone, phones)):
        found = ledger._indexer(vault, kind)([*values, "neither"])
        assert {v: i.hex() for v, i in found.items()} == {
            v: vault.blind_index(kind, v) for v in values
        }


def test_the_bulk_indexer_defers_to_the_vault_when_they_differ(
    monkeypatch: pytest.MonkeyPatch, vault: Vault
) -> None:
    def other(kind: str, value: str) -> str:
        return hashlib.sha256(f"{kind}|{value}".encode()).hexdigest()

    monkeypatch.setattr(vault, "blind_index", other)
    found = ledger._indexer(vault, IdentityKind.email)(["a@example.com"])
    assert found == {"a@example.com": bytes.fromhex(other("email", "a@example.com"))}


def test_bad_settings_name_the_variable() -> None:
    with pytest.raises(bench.BenchError, match="BENCH_CONSENT_OPT_OUTS"):
        bench.options_from({"BENCH_CONSENT_OPT_OUTS": "ten"})
    with pytest.raises(bench.BenchError, match="at most BENCH_CONSENT_CANDIDATES"):
        bench.options_from({"BENCH_CONSENT_OPT_OUTS": "20", "BENCH_CONSENT_CANDIDATES": "10"})
    with pytest.raises(bench.BenchError, match="BENCH_BACKENDS"):
        bench.options_from({"BENCH_BACKENDS": "oracle"})
    chosen = bench.options_from({"BENCH_CONSENT_REQUESTS": "1_000", "BENCH_ROUNDS": "3"})
    assert (chosen.requests, chosen.rounds, chosen.candidates) == (1000, 3, 1_000_000)
