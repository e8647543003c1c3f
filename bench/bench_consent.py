"""Consent benchmarks: single decisions over HTTP and the suppression filter in bulk, each against
a baseline measured in the same run, on SQLite and PostgreSQL.

Decisions over HTTP. `privacyops serve` (uvicorn) runs in a process of its own on a free port,
against the bench database; BENCH_CONSENT_CLIENTS threads of this process, each with its own
keep-alive httpx client, send BENCH_CONSENT_REQUESTS requests per side and round:

- `GET /api/v1/consent/decision?purpose=marketing.communications.email&email=...`, half for
  people who opted out (a record decides), half for addresses nobody knows (the default does);
- the baseline `GET /healthz` of the same app (a session and `SELECT 1`).

Every request carries the same `Authorization: Bearer` header, an engineer's API token
(scope consent.read). /healthz ignores it: checking the token (a query) is part of what a
decision pays and the baseline does not, as is the audit event every decision appends
(who asked about whom is kept), committed before the answer leaves, in a transaction shared
with the decisions asked meanwhile (`audit/batch.py`). Target: decisions at 70% or more of
/healthz's throughput.
For comparison, `GET /api/v1/admin/me`, which checks the token and does nothing else, shows
how much of the gap authentication is. The server logs at WARNING (no access log): a log line
per request would cost both sides the same and narrow the gap. Requests that fail while timed
(not 200) are counted, and the line says FAILED with their number and the first error instead
of a ratio that would compare nothing.

The filter. BENCH_CONSENT_OPT_OUTS people (default 100,000) opted out of marketing email, each
a data subject with an email identity (blind index, ciphertext under the subject's data key)
and a ledger record with its decision, bulk-inserted with the vault's own functions. The list
is BENCH_CONSENT_CANDIDATES emails (default 1,000,000) in a shuffled order, the opted-out among
them, one in ten. Timed: `ledger.allowed_contacts` consuming the whole list (held in memory),
against a plain SQL anti-join (`NOT EXISTS`) of a plain table of the same emails and a plain
table of the opted-out emails in clear (primary key on the email), in the same database, every
row fetched; a list this long makes `allowed_contacts` read the opted-out at once, as the
anti-join does (a short one is looked up a chunk at a time). Target: the engine within 2x of
the anti-join. For comparison, `POST /api/v1/consent/filter` end to end: the list sent as
text/plain, the answer read back.

Fair to both sides, before any timing: the engine, the endpoint and the anti-join must return
the same emails (the engine and the endpoint in the list's order); a difference stops the
bench. Sides take turns round by round, the first to go changing every round, after a warm-up;
the median round is kept. Data is generated once into BENCH_CACHE_DIR/consent-<backend> (the
key ring, the key store, and for SQLite the database) and, for PostgreSQL, the database
`privacyops_bench_consent`; reused while it holds the sizes asked for.

Environment (all optional):
  BENCH_CONSENT_OPT_OUTS     people opted out, default 100000
  BENCH_CONSENT_CANDIDATES   emails in the list to filter, default 1000000
  BENCH_CONSENT_REQUESTS     HTTP requests per side and round, default 2000
  BENCH_CONSENT_CLIENTS      concurrent keep-alive clients, default 8
  BENCH_BACKENDS             default sqlite,postgresql
  BENCH_ROUNDS               rounds per measurement, default 7
  BENCH_POSTGRES_URL         the server, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres
  BENCH_CACHE_DIR            where generated files go, default var/bench

Run alone with `python -m bench.bench_consent`; `make bench` runs it with the others.
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bench.harness import Result
from privacyops.consent import ledger
from privacyops.consent.purposes import EMAIL
from privacyops.db import Base, make_engine, make_session_factory, unit_of_work
from privacyops.identity.normalize import IdentityKind
from privacyops.identity.service import identity_context
from privacyops.migrate import upgrade
from privacyops.models.types import utcnow
from privacyops.settings import Settings
from privacyops.staff import repository as staff_repository
from privacyops.staff import service as staff_service
from privacyops.vault.keyring import KeyRing, keyring_path, load_keyring
from privacyops.vault.keystore import MemoryKeyStore, SqlKeyStore, WrappedKey, subject_keys
from privacyops.vault.service import KeyCache, Vault
from privacyops.vault.setup import ensure_keyring

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "examples" / "miniso-usa" / "policy.yaml"
BACKENDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "privacyops_bench_consent"
DEFAULTS = {
    "BENCH_CONSENT_OPT_OUTS": 100_000,
    "BENCH_CONSENT_CANDIDATES": 1_000_000,
    "BENCH_CONSENT_REQUESTS": 2_000,
    "BENCH_CONSENT_CLIENTS": 8,
    "BENCH_ROUNDS": 7,
}
THROUGHPUT_TARGET = 0.70  # decisions per second / /healthz per second, at least
FILTER_TARGET = 2.0  # engine seconds / anti-join seconds, at most
PURPOSE = EMAIL
DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")
BATCH = 5_000  # people (or list rows) per insert while generating
HOST = "127.0.0.1"
STAFF_EMAIL = "bench-consent@example.com"
SERVE = "from privacyops.cli import main; main()"  # `privacyops serve` with this interpreter


class BenchError(Exception):
    """The bench cannot run as asked, or two sides disagree; the message says which."""


# -- the results ----------------------------------------------------------------------------------


@dataclass
class Checked(Result):
    """A ratio of seconds per operation with its target: at most `limit`; with `throughput`,
    the target is read as a share of the baseline's operations per second (at least 1/limit)."""

    limit: float | None = None
    throughput: bool = False
    failed: str | None = None  # requests failed while timed: no ratio to speak of

    @property
    def met(self) -> bool | None:
        return None if self.limit is None else self.ratio <= self.limit

    def line(self) -> str:
        if self.failed is not None:
            return f"{self.name:<44} {'FAILED':>8}  {self.baseline_name}  [{self.failed}]"
        if self.limit is None:
            return f"{super().line()}  [for comparison]"
        verdict = "met" if self.met else "MISSED"
        if self.throughput:
            share = 1 / self.ratio if self.ratio else float("inf")
            return (
                f"{super().line()}  [throughput {share:.0%} of baseline; "
                f"target >= {1 / self.limit:.0%}: {verdict}]"
            )
        return f"{super().line()}  [target <= {self.limit:g}x: {verdict}]"


# -- settings from the environment ----------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    opt_outs: int = DEFAULTS["BENCH_CONSENT_OPT_OUTS"]
    candidates: int = DEFAULTS["BENCH_CONSENT_CANDIDATES"]
    requests: int = DEFAULTS["BENCH_CONSENT_REQUESTS"]
    clients: int = DEFAULTS["BENCH_CONSENT_CLIENTS"]
    backends: tuple[str, ...] = BACKENDS
    rounds: int = DEFAULTS["BENCH_ROUNDS"]
    postgres: str = DEFAULT_POSTGRES
    database: str = DATABASE
    cache: Path = ROOT / "var" / "bench"


def options_from(env: Mapping[str, str]) -> Options:
    """The bench's settings; a bad value stops it with the variable's name."""
    numbers = {name: _number(env, name, default) for name, default in DEFAULTS.items()}
    if numbers["BENCH_CONSENT_OPT_OUTS"] > numbers["BENCH_CONSENT_CANDIDATES"]:
        raise BenchError("BENCH_CONSENT_OPT_OUTS: at most BENCH_CONSENT_CANDIDATES")
    backends = tuple(
        name.strip().lower()
        for name in env.get("BENCH_BACKENDS", ",".join(BACKENDS)).split(",")
        if name.strip()
    )
    unknown = [name for name in backends if name not in BACKENDS]
    if unknown or not backends:
        raise BenchError(
            f"BENCH_BACKENDS: unknown backend {', '.join(unknown) or '(none)'}; "
            f"use {', '.join(BACKENDS)}"
        )
    return Options(
        opt_outs=numbers["BENCH_CONSENT_OPT_OUTS"],
        candidates=numbers["BENCH_CONSENT_CANDIDATES"],
        requests=numbers["BENCH_CONSENT_REQUESTS"],
        clients=numbers["BENCH_CONSENT_CLIENTS"],
        backends=tuple(dict.fromkeys(backends)),
        rounds=numbers["BENCH_ROUNDS"],
        postgres=env.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        cache=Path(env.get("BENCH_CACHE_DIR", str(ROOT / "var" / "bench"))),
    )


def _number(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise BenchError(f"{name}: a whole number, not {raw!r}") from None
    if value < 1:
        raise BenchError(f"{name}: at least 1, not {raw!r}")
    return value


# -- the people and the list ----------------------------------------------------------------------


def email_of(number: int) -> str:
    return f"shopper.{number}@{DOMAINS[number % len(DOMAINS)]}"


def opted_out_numbers(options: Options) -> list[int]:
    """Spread evenly over the list: with the defaults, one in ten."""
    return [i * options.candidates // options.opt_outs for i in range(options.opt_outs)]


def candidate_numbers(options: Options) -> list[int]:
    """The list's order: shuffled (seeded), as a campaign export comes, not sorted."""
    numbers = list(range(options.candidates))
    random.Random(6).shuffle(numbers)  # noqa: S311 - sample data, not secrets
    return numbers


# Plain tables beside the platform's, for the baseline and to know what was generated.
plain = MetaData()
plain_candidates = Table(
    "bench_candidates",
    plain,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("email", String(254), nullable=False),
)
plain_opted_out = Table("bench_opted_out", plain, Column("email", String(254), primary_key=True))
generated = Table(
    "bench_consent_generated",
    plain,
    Column("opt_outs", Integer, nullable=False),
    Column("candidates", Integer, nullable=False),
    # The blind index of the first opted-out email: tells a key ring that changed since.
    Column("index_check", String(64), nullable=False),
)

ANTI_JOIN = text(
    "SELECT c.email FROM bench_candidates c WHERE NOT EXISTS "
    "(SELECT 1 FROM bench_opted_out o WHERE o.email = c.email)"
)


# -- the bench database, generated once -----------------------------------------------------------


@dataclass(frozen=True)
class Store:
    backend: str
    settings: Settings

    @property
    def url(self) -> str:
        return self.settings.effective_database_url


def store_for(backend: str, options: Options) -> Store:
    data_dir = (options.cache / f"consent-{backend}").resolve()
    if backend == "sqlite":
        url = f"sqlite:///{(data_dir / 'privacyops.db').as_posix()}"
    else:
        url = make_url(options.postgres).set(database=options.database).render_as_string(False)
    # Every setting that matters given here, so that PRIVACYOPS_* variables of the shell
    # running the bench cannot point it at another database or key ring.
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        keystore_url=f"sqlite:///{(data_dir / 'keystore.db').as_posix()}",
        vault_keyring=None,
        secret_key=None,
        default_policy_file=POLICY,
        job_backend="inline",
        scheduler_enabled=False,
        rate_limit_backend="memory",
        log_level="WARNING",
    )
    return Store(backend, settings)


def prepare(store: Store, options: Options) -> None:
    """Generate the bench data unless the cached data holds the sizes asked for."""
    if store.backend == "postgresql":
        _create_database(options.postgres, options.database)
    if _generated_sizes(store) != (options.opt_outs, options.candidates):
        _generate(store, options)


def _create_database(server: str, name: str, drop: bool = False) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if drop:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def _generated_sizes(store: Store) -> tuple[int, int] | None:
    if not keyring_path(store.settings).exists():
        return None
    engine = create_engine(store.url)
    try:
        if generated.name not in inspect(engine).get_table_names():
            return None
        with engine.connect() as conn:
            row = conn.execute(select(generated)).first()
    finally:
        engine.dispose()
    if row is None:
        return None
    ring = load_keyring(store.settings)
    first = Vault(ring, MemoryKeyStore()).blind_index("email", email_of(0))
    return (row.opt_outs, row.candidates) if row.index_check == first else None


def _generate(store: Store, options: Options) -> None:
    _say(
        f"{store.backend}: generating {options.opt_outs:,} opted-out people and a list of "
        f"{options.candidates:,} emails (once; reused by later runs)"
    )
    start = time.perf_counter()
    _wipe(store, options)
    ensure_keyring(store.settings)
    upgrade(store.url)
    ring = load_keyring(store.settings)
    engine = make_engine(store.url)
    keystore = SqlKeyStore(store.settings.effective_keystore_url)
    try:
        numbers = opted_out_numbers(options)
        for begin in range(0, len(numbers), BATCH):
            emails = [email_of(n) for n in numbers[begin : begin + BATCH]]
            add_opted_out(engine, keystore, ring, emails)
        _add_plain_tables(engine, options, numbers)
        _analyze(engine, store.backend)
        with engine.begin() as conn:
            check = Vault(ring, MemoryKeyStore()).blind_index("email", email_of(0))
            conn.execute(
                insert(generated),
                {
                    "opt_outs": options.opt_outs,
                    "candidates": options.candidates,
                    "index_check": check,
                },
            )
    finally:
        keystore.close()
        engine.dispose()
    _say(f"{store.backend}: generated in {time.perf_counter() - start:.0f} s")


def _wipe(store: Store, options: Options) -> None:
    # A new key ring goes with new data: the old blind indexes and wrapped keys are useless.
    shutil.rmtree(store.settings.data_dir, ignore_errors=True)
    store.settings.data_dir.mkdir(parents=True)
    if store.backend == "postgresql":
        _create_database(options.postgres, options.database, drop=True)


class _Pending(MemoryKeyStore):
    """The data keys made for a batch of people, to go to the key store in one statement
    (`Vault.create_subject_key` commits each on its own: 100,000 commits would take minutes)."""

    def __init__(self) -> None:
        super().__init__()
        self.made: list[WrappedKey] = []

    def put(self, key: WrappedKey) -> None:
        super().put(key)
        self.made.append(key)


def add_opted_out(
    engine: Engine, keystore: SqlKeyStore, ring: KeyRing, emails: Sequence[str]
) -> None:
    """People opted out of marketing email, made as the platform makes them: a data subject with
    its data key (wrapped by the ring), an email identity (blind index, ciphertext under the
    subject's key: `identity.service._add_identities`), an `import` record and its decision
    (`ledger.record`), inserted in bulk."""
    pending = _Pending()
    vault = Vault(ring, pending, KeyCache(size=len(emails) + 1))
    now = utcnow()
    subjects, identities = [], []
    for email in emails:
        subject_id, identity_id = str(uuid.uuid4()), str(uuid.uuid4())
        vault.create_subject_key(subject_id)
        subjects.append({"id": subject_id, "created_at": now})
        identities.append(
            {
                "id": identity_id,
                "subject_id": subject_id,
                "kind": "email",
                "blind_index": vault.blind_index("email", email),
                "ciphertext": vault.encrypt_for_subject(
                    subject_id, email, identity_context(identity_id, "email")
                ),
                "created_at": now,
            }
        )
    with keystore.engine.begin() as conn:
        conn.execute(
            insert(subject_keys),
            [
                {
                    "subject_id": k.subject_id,
                    "key_id": k.key_id,
                    "wrapped_key": k.wrapped,
                    "created_at": now,
                }
                for k in pending.made
            ],
        )
    tables = Base.metadata.tables
    records = [
        {
            "subject_id": row["id"],
            "purpose": PURPOSE,
            "allowed": False,
            "method": ledger.Method.import_.value,
            "recorded_at": now,
            "actor": "cli",
        }
        for row in subjects
    ]
    with engine.begin() as conn:
        conn.execute(insert(tables["data_subjects"]), subjects)
        conn.execute(insert(tables["subject_identities"]), identities)
        returning = insert(tables["consent_records"]).returning(
            tables["consent_records"].c.id, sort_by_parameter_order=True
        )
        record_ids = conn.execute(returning, records).scalars().all()
        conn.execute(
            insert(tables["consent_decisions"]),
            [
                {
                    "subject_id": row["subject_id"],
                    "purpose": PURPOSE,
                    "allowed": False,
                    "record_id": record_id,
                    "updated_at": now,
                }
                for row, record_id in zip(records, record_ids, strict=True)
            ],
        )


def _add_plain_tables(engine: Engine, options: Options, opted_out: Sequence[int]) -> None:
    plain.create_all(engine)
    order = candidate_numbers(options)
    with engine.begin() as conn:
        for begin in range(0, len(opted_out), BATCH * 10):
            conn.execute(
                insert(plain_opted_out),
                [{"email": email_of(n)} for n in opted_out[begin : begin + BATCH * 10]],
            )
        for begin in range(0, len(order), BATCH * 10):
            conn.execute(
                insert(plain_candidates),
                [
                    {"id": begin + i, "email": email_of(n)}
                    for i, n in enumerate(order[begin : begin + BATCH * 10])
                ],
            )


def _analyze(engine: Engine, backend: str) -> None:
    # Planner statistics now, so that the first run plans as later ones will.
    if backend == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def api_token(store: Store) -> str:
    """A fresh API token of an engineer (scope consent.read), the member made on first use."""
    engine = make_engine(store.url)
    try:
        with unit_of_work(make_session_factory(engine)) as db:
            staff = staff_repository.staff_by_email(db, STAFF_EMAIL)
            if staff is None:
                staff = staff_service.create_staff(
                    db,
                    email=STAFF_EMAIL,
                    role="engineer",
                    password=secrets.token_urlsafe(24),
                    actor="cli",
                )
            issued = staff_service.issue_token(
                db, staff, name="bench", role="engineer", actor="cli"
            )
            return issued.plaintext
    finally:
        engine.dispose()


# -- the server -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(settings: Settings) -> dict[str, str]:
    """The server's environment: this one without PRIVACYOPS_* variables, plus the bench's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIVACYOPS_")}
    env.update(
        {
            "PRIVACYOPS_DATA_DIR": str(settings.data_dir),
            "PRIVACYOPS_DATABASE_URL": settings.effective_database_url,
            "PRIVACYOPS_KEYSTORE_URL": settings.effective_keystore_url,
            "PRIVACYOPS_DEFAULT_POLICY_FILE": str(settings.default_policy_file),
            "PRIVACYOPS_JOB_BACKEND": settings.job_backend,
            "PRIVACYOPS_SCHEDULER_ENABLED": "false",
            "PRIVACYOPS_RATE_LIMIT_BACKEND": "memory",
            "PRIVACYOPS_LOG_LEVEL": settings.log_level,
        }
    )
    return env


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """`privacyops serve` in a process of its own, on a free port; yields its base URL."""
    port = _free_port()
    log_path = settings.data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, our own command
            [sys.executable, "-c", SERVE, "serve", "--host", HOST, "--port", str(port)],
            env=server_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        url = f"http://{HOST}:{port}"
        try:
            _wait_until_up(process, url, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        # Refused or reset while the server starts: ask again shortly.
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    raise BenchError(f"the server did not start; its log ({log_path}) ends with:\n{tail}")


# -- decisions over HTTP --------------------------------------------------------------------------


def decision_path(email: str) -> str:
    return "/api/v1/consent/decision?" + urlencode({"purpose": PURPOSE, "email": email})


def decision_targets(options: Options, count: int) -> list[str]:
    """Decision URLs, alternating a person who opted out (a record decides) and an address
    nobody knows (outside the list: the purpose's default decides)."""
    opted_out = opted_out_numbers(options)
    return [
        decision_path(email_of(opted_out[(i // 2) % len(opted_out)]))
        if i % 2 == 0
        else decision_path(email_of(options.candidates + i // 2))
        for i in range(count)
    ]


def check_decisions(url: str, headers: Mapping[str, str], options: Options) -> None:
    """Before timing: every side answers 200, and decisions say what the data holds."""
    first_out, nobody = decision_targets(options, 2)
    with httpx.Client(base_url=url, headers=dict(headers), timeout=60) as client:
        for path in ("/healthz", "/api/v1/admin/me"):
            _expect_ok(client.get(path), path)
        refused = _expect_ok(client.get(first_out), "decision").json()
        default = _expect_ok(client.get(nobody), "decision").json()
    if refused["allowed"] or refused["record_id"] is None:
        raise BenchError(f"an opted-out person is not refused by a record: {refused['reason']}")
    if not default["allowed"] or default["record_id"] is not None:
        raise BenchError(f"an unknown address is not allowed by default: {default['reason']}")


def _expect_ok(response: httpx.Response, what: str) -> httpx.Response:
    if response.status_code != 200:
        raise BenchError(f"{what}: HTTP {response.status_code}: {response.text[:300]}")
    return response


class Failures:
    """Requests of one side that did not answer 200 while timed: counted, the first kept."""

    def __init__(self) -> None:
        self.count = 0
        self.first: str | None = None
        self._lock = threading.Lock()

    def add(self, what: str) -> None:
        with self._lock:
            self.count += 1
            self.first = self.first or what


def load(
    url: str,
    headers: Mapping[str, str],
    targets: Sequence[str],
    clients: int,
    failures: Failures,
) -> float:
    """Seconds per request: `targets` shared among `clients` keep-alive clients sending at
    once, timed from the moment all are connected to the last answer. A request that fails
    while timed is counted in `failures` and the others go on; one that fails before (the
    server is down or refuses the token) stops the bench."""
    shares = [share for share in (targets[i::clients] for i in range(clients)) if share]
    ready = threading.Barrier(len(shares) + 1)
    broken: list[str] = []

    def send(share: Sequence[str]) -> None:
        with httpx.Client(base_url=url, headers=dict(headers), timeout=60) as client:
            try:
                _expect_ok(client.get("/healthz"), "/healthz")  # connected before the clock
                ready.wait()
            except threading.BrokenBarrierError:
                return
            except (BenchError, httpx.HTTPError) as error:
                broken.append(str(error) or type(error).__name__)
                ready.abort()
                return
            for target in share:
                _send(client, target, failures)

    threads = [threading.Thread(target=send, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    with suppress(threading.BrokenBarrierError):
        ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if broken:
        raise BenchError(f"a request failed before the measurement: {broken[0]}")
    return elapsed / len(targets)


def _send(client: httpx.Client, target: str, failures: Failures) -> None:
    path = target.split("?", 1)[0]
    try:
        status = client.get(target).status_code
    except httpx.HTTPError as error:  # the server closes a connection after a 500
        failures.add(f"{path}: {type(error).__name__}")
        return
    if status != 200:
        failures.add(f"{path}: HTTP {status}")


def interleaved(works: Mapping[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """The median of what each work measures over `rounds` rounds. The first to go changes
    every round, so that every side sees the same machine state: a load that comes and goes
    falls on all of them."""
    keys = list(works)
    kept: dict[str, list[float]] = {key: [] for key in keys}
    for number in range(rounds):
        turn = number % len(keys)
        for key in keys[turn:] + keys[:turn]:
            kept[key].append(works[key]())
    return {key: statistics.median(values) for key, values in kept.items()}


def timed(work: Callable[[], object]) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        work()
        return time.perf_counter() - start

    return run


SIDES = ("decision", "healthz", "me")


@dataclass(frozen=True)
class HttpTimes:
    seconds: dict[str, float]  # per request (inverse throughput), median round, by side
    failures: dict[str, Failures]


def measure_decisions(url: str, headers: Mapping[str, str], options: Options) -> HttpTimes:
    count = options.requests
    targets = {
        "decision": decision_targets(options, count),
        "healthz": ["/healthz"] * count,
        "me": ["/api/v1/admin/me"] * count,
    }
    failures = {side: Failures() for side in SIDES}
    warm_up = max(options.clients * 4, count // 5)
    for paths in targets.values():  # connections, caches, the server's first calls
        load(url, headers, paths[:warm_up], options.clients, Failures())
    works = {
        side: _loader(url, headers, paths, options.clients, failures[side])
        for side, paths in targets.items()
    }
    return HttpTimes(interleaved(works, options.rounds), failures)


def _loader(
    url: str, headers: Mapping[str, str], targets: Sequence[str], clients: int, failed: Failures
) -> Callable[[], float]:
    return lambda: load(url, headers, targets, clients, failed)


# -- the filter -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterInput:
    candidates: list[str]  # the list, in its order
    expected: list[str]  # those not opted out, in the list's order
    body: bytes  # the list as the endpoint takes it


def filter_input(engine: Engine) -> FilterInput:
    """The list and the opted-out emails as the baseline's tables hold them."""
    with engine.connect() as conn:
        candidates = list(
            conn.execute(select(plain_candidates.c.email).order_by(plain_candidates.c.id)).scalars()
        )
        opted_out = set(conn.execute(select(plain_opted_out.c.email)).scalars())
    expected = [email for email in candidates if email not in opted_out]
    return FilterInput(candidates, expected, ("\n".join(candidates) + "\n").encode())


@dataclass(frozen=True)
class FilterSides:
    """The three ways to the same answer; each returns the contactable emails."""

    engine: Engine
    vault: Vault
    url: str
    headers: Mapping[str, str]
    given: FilterInput

    def ledger(self) -> list[str]:
        with make_session_factory(self.engine)() as db:
            return list(
                ledger.allowed_contacts(
                    db, self.vault, PURPOSE, IdentityKind.email, self.given.candidates
                )
            )

    def anti_join(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(ANTI_JOIN).scalars())

    def endpoint(self) -> list[str]:
        with httpx.Client(base_url=self.url, headers=dict(self.headers), timeout=900) as client:
            response = client.post(
                "/api/v1/consent/filter",
                params={"purpose": PURPOSE},
                content=self.given.body,
                headers={"Content-Type": "text/plain; charset=utf-8"},
            )
        return _expect_ok(response, "POST /api/v1/consent/filter").text.splitlines()


def check_filter(sides: FilterSides) -> None:
    """Before timing: the same emails from all three (the list's order from the ledger and the
    endpoint; the anti-join's order is the database's)."""
    expected = sides.given.expected
    if len(expected) == len(sides.given.candidates):
        raise BenchError("nobody in the list opted out: the data is not what the bench made")
    if sides.ledger() != expected:
        raise BenchError("the ledger's filter and the opted-out list disagree")
    found = sides.anti_join()
    if len(found) != len(expected) or set(found) != set(expected):
        raise BenchError("the SQL anti-join and the opted-out list disagree")
    if sides.endpoint() != expected:
        raise BenchError("POST /api/v1/consent/filter and the opted-out list disagree")


def measure_filter(sides: FilterSides, rounds: int) -> dict[str, float]:
    """Seconds per whole list, median round (the checks above were the warm-up)."""
    return interleaved(
        {
            "ledger": timed(sides.ledger),
            "anti-join": timed(sides.anti_join),
            "endpoint": timed(sides.endpoint),
        },
        rounds,
    )


# -- the whole bench ------------------------------------------------------------------------------


def size_name(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    if count >= 1_000 and count % 1_000 == 0:
        return f"{count // 1_000}k"
    return f"{count:,}"


def results(
    store: Store, options: Options, http: HttpTimes, filters: Mapping[str, float]
) -> list[Checked]:
    backend, seconds = store.backend, http.seconds
    same = f"{options.clients} clients, same token"
    listed = f"{size_name(options.candidates)} emails, {size_name(options.opt_outs)} opt-outs"
    anti_join = "SQL anti-join of the same emails"
    return [
        Checked(
            f"{backend}: decision over HTTP",
            f"GET /healthz ({same})",
            seconds["decision"],
            seconds["healthz"],
            limit=1 / THROUGHPUT_TARGET,
            throughput=True,
            failed=_failed(store, options, http, ("decision", "healthz")),
        ),
        Checked(
            f"{backend}: decision over HTTP",
            f"GET /api/v1/admin/me ({same})",
            seconds["decision"],
            seconds["me"],
            failed=_failed(store, options, http, ("decision", "me")),
        ),
        Checked(
            f"{backend}: filter {listed}",
            anti_join,
            filters["ledger"],
            filters["anti-join"],
            limit=FILTER_TARGET,
        ),
        Checked(
            f"{backend}: POST filter, {size_name(options.candidates)} emails",
            anti_join,
            filters["endpoint"],
            filters["anti-join"],
        ),
    ]


def _failed(store: Store, options: Options, http: HttpTimes, sides: Sequence[str]) -> str | None:
    """What failed while timed, if anything: then the throughputs compare nothing."""
    timed = options.requests * options.rounds
    found = [(side, http.failures[side]) for side in sides if http.failures[side].count]
    if not found:
        return None
    counts = ", ".join(f"{f.count} of {timed} {side} requests ({f.first})" for side, f in found)
    return f"failed: {counts}; see {store.settings.data_dir / 'server.log'}"


def run_backend(backend: str, options: Options) -> list[Checked]:
    store = store_for(backend, options)
    prepare(store, options)
    headers = {"Authorization": f"Bearer {api_token(store)}"}
    engine = make_engine(store.url)
    vault = Vault.from_settings(store.settings)
    try:
        with serving(store.settings) as url:
            check_decisions(url, headers, options)
            _say(
                f"{backend}: decisions answer as the data says; timing {options.rounds} rounds of "
                f"{options.requests} requests per side, {options.clients} clients"
            )
            http = measure_decisions(url, headers, options)
            sides = FilterSides(engine, vault, url, headers, filter_input(engine))
            check_filter(sides)
            _say(
                f"{backend}: the ledger, the endpoint and the anti-join keep the same "
                f"{len(sides.given.expected):,} emails; timing {options.rounds} rounds"
            )
            filters = measure_filter(sides, options.rounds)
    finally:
        vault.close()
        engine.dispose()
    return results(store, options, http, filters)


def run(env: Mapping[str, str] | None = None) -> Iterator[Result]:
    """Every backend; a PostgreSQL server that cannot be reached is skipped, loudly."""
    options = options_from(os.environ if env is None else env)
    for backend in options.backends:
        try:
            yield from run_backend(backend, options)
        except OperationalError as error:
            if backend != "postgresql":
                raise
            reason = str(error.orig).strip().splitlines()[0] if error.orig else "no connection"
            safe = make_url(options.postgres).render_as_string(hide_password=True)
            _say(
                f"postgresql: SKIPPED, cannot use {safe} ({reason}); "
                "set BENCH_POSTGRES_URL, or BENCH_BACKENDS=sqlite"
            )


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main() -> None:
    print(f"{'benchmark':<44} {'ratio':>8}  baseline")
    try:
        for result in run():
            print(result.line(), flush=True)
    except BenchError as error:
        raise SystemExit(f"bench: {error}") from None


if __name__ == "__main__":
    main()
