"""Fulfilment: a verified request's work in the connected datastores, as a job.

    access      traverse from the verified identities; one task per collection
    erasure     (deletion) plan and apply the masking per collection, children first, each
                datastore's collections in one transaction where it offers one (`batched`);
                processors' datastores are told through their own connectors;
                then the subject's key is crypto-shredded
    packages    (access, portability) JSON, CSV zip and HTML, encrypted, linked in the mail

Every step is committed before the next begins (a collection's search; a datastore's erasure
or correction, once the datastore committed it), so a killed worker or a datastore that fails
loses nothing: the next run (the `requests.resume` job retries with back-off) starts from the
saved tasks, never asks a datastore again for what it already answered, and re-applies an
erasure only where it is not yet done (the masked values are deterministic, so even a repeat
changes nothing). A request is completed only when every task is done.

This module is the job's body: it opens its own units of work. The rules it applies live in
`connectors.traversal`, `connectors.masking` and `dsr.packages`.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.connectors import registry
from privacyops.connectors.datasets import CollectionKey
from privacyops.connectors.email import AckLinks, AwaitingProcessor, EmailProcessorConnector
from privacyops.connectors.graph import Graph
from privacyops.connectors.manual import ManualTaskRequired
from privacyops.connectors.masking import (
    CollectionErasure,
    ErasureRules,
    choose_key_field,
    plan_erasure,
)
from privacyops.connectors.port import (
    Batching,
    CollectionSpec,
    Connector,
    ConnectorError,
    batched,
)
from privacyops.connectors.traversal import CollectionState, StepFailure, dumps, traverse
from privacyops.db import unit_of_work
from privacyops.dsr import repository, workflow
from privacyops.dsr.corrections import FieldChange, changes_of
from privacyops.dsr.records import FULFIL_FLAG, SYSTEM, add_event, audit, load, move
from privacyops.dsr.service import manifest_of, verified_identities
from privacyops.dsr.status import InvalidTransition, Status
from privacyops.dsr.tokens import StatusLinks
from privacyops.identity.service import shred_subject
from privacyops.models.connectors import CollectionTask
from privacyops.models.dsr import DataRequest, RequestTask
from privacyops.models.policy import PolicyVersion
from privacyops.models.types import utcnow
from privacyops.policy.manifest import PolicyManifest
from privacyops.retention import holds
from privacyops.rights.rules import RequestType
from privacyops.vault import secrets
from privacyops.vault.service import Vault

ACCESS, ERASURE, CORRECTION = "access", "erasure", "correction"
# Request types whose answer lives in the datastores, and the phases they run.
PHASES: Mapping[str, tuple[str, ...]] = {
    RequestType.access: (ACCESS,),
    RequestType.portability: (ACCESS,),
    RequestType.deletion: (ACCESS, ERASURE),
    RequestType.correction: (ACCESS, CORRECTION),
}
RUNNABLE = (Status.in_progress.value, Status.needs_attention.value)
# Seconds before the next attempt at a failed datastore: 1 min, 5 min, 30 min, 2 h, then 6 h.
BACKOFF = (60, 300, 1800, 7200, 21600)
# How often a run looks again at an instruction a processor has not confirmed (the click itself
# starts a run at once; this is the safety net).
WAITING_POLL = timedelta(hours=1)
MASKING_KEY_SECRET = "masking:hash-key"  # noqa: S105 (a vault entry's name, not a secret)


class TaskState:
    pending = "pending"
    done = "done"
    failed = "failed"
    manual = "manual"
    waiting = "waiting"  # for a processor to confirm an instruction


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1])


@dataclass
class Context:
    """What a run needs, read in one unit of work so the datastores are asked outside any."""

    request_id: str
    subject_id: str
    type: str
    seeds: dict[str, list[str]]
    manifest: PolicyManifest
    policy_version: int
    graph: Graph
    datastore_of: dict[str, str]
    connector_settings: dict[str, registry.ConnectorSettings]
    tasks: dict[tuple[str, CollectionKey], CollectionTask] = field(default_factory=dict)
    held: str | None = None
    identities: dict[str, str] = field(default_factory=dict)
    ack_links: AckLinks | None = None
    changes: list[FieldChange] = field(default_factory=list)


def needs_datastores(db: Session, request: DataRequest) -> bool:
    return request.type in PHASES and bool(registry.enabled(db))


def unfinished(db: Session, request: DataRequest) -> list[str]:
    """Names of the datastore work still open; used by staff approval (never complete early)."""
    if not needs_datastores(db, request):
        return []
    tasks = _tasks(db, request.id)
    if not tasks:
        return ["datastores (not searched yet)"]
    phases = PHASES[request.type]
    open_ = [t for t in tasks if t.status != TaskState.done and t.phase in phases]
    if ERASURE in phases and not any(t.phase == ERASURE for t in tasks):
        return ["erasure (not started yet)"]
    if CORRECTION in phases and not any(t.phase == CORRECTION for t in tasks):
        return ["corrections (staff map them to correctable fields first)"]
    return [f"{t.dataset}/{t.collection} ({t.phase}, {t.status})" for t in open_]


def _tasks(db: Session, request_id: str) -> list[CollectionTask]:
    return list(repository.collection_tasks_of(db, request_id))


def retry_now(
    db: Session,
    vault: Vault,
    request_id: str,
    *,
    actor: str,
    now: datetime,
    client: str | None = None,
) -> DataRequest:
    """Staff's "try again now": failed datastore tasks are due at once and the job is queued
    after the commit. Only for a request that needs attention."""
    request = load(db, request_id, lock=True)
    if request.status != Status.needs_attention:
        raise InvalidTransition(f"cannot retry: the request is {request.status}")
    for task in _tasks(db, request.id):
        if task.status == TaskState.failed:
            task.next_attempt_at = now
    add_event(db, vault, request, actor=actor, action="retry", now=now)
    audit(db, vault, request, AuditAction.request_retried, actor=actor, client=client)
    db.info.setdefault(FULFIL_FLAG, set()).add(request.id)
    db.flush()
    return request


# -- the job -----------------------------------------------------------------------------------


def run(
    factory: sessionmaker[Session],
    vault: Vault,
    links: StatusLinks,
    request_id: str,
    *,
    now: Callable[[], datetime] = utcnow,
    package_days: int = 30,
) -> str:
    """Do what can be done now for the request; returns the request's status afterwards."""
    with unit_of_work(factory) as db:
        context = _context(db, vault, request_id)
        if context is None:
            return load(db, request_id).status
    context.ack_links = AckLinks(links.secret_key, links.public_url)
    states = _access(factory, vault, context, now)
    if states is None:
        return _status(factory, request_id)
    if ERASURE in PHASES[context.type] and not _erasure(factory, vault, context, states, now):
        return _status(factory, request_id)
    if CORRECTION in PHASES[context.type] and not _correction(factory, vault, context, states, now):
        return _status(factory, request_id)
    return _finish(factory, vault, links, context, states, now, package_days)


def _status(factory: sessionmaker[Session], request_id: str) -> str:
    with unit_of_work(factory) as db:
        return load(db, request_id).status


def _context(db: Session, vault: Vault, request_id: str) -> Context | None:
    request = load(db, request_id, lock=True)
    if request.status not in RUNNABLE or request.verified_at is None:
        return None
    if not needs_datastores(db, request):
        return None
    found = registry.catalog(db)
    policy = db.scalar(select(PolicyVersion).where(PolicyVersion.number == request.policy_version))
    if policy is None:
        return None
    identities = verified_identities(db, vault, request)
    context = Context(
        request_id=request.id,
        subject_id=request.subject_id,
        type=request.type,
        seeds={kind: [value] for kind, value in identities.items()},
        manifest=manifest_of(policy),
        policy_version=policy.number,
        graph=found.graph,
        datastore_of=found.datastore_of,
        connector_settings={
            key: registry.connector_settings(db, vault, store)
            for key, store in found.stores.items()
        },
        held=holds.reason_for(db, request.subject_id),
        identities=dict(identities),
    )
    staff_done = {t.name for t in workflow.done_tasks(db, request)}
    for task in _tasks(db, request.id):
        key = (task.dataset, task.collection)
        context.tasks[(task.phase, key)] = task
        if (
            task.status == TaskState.manual
            and staff_task_name(context, task.phase, key) in staff_done
        ):
            # A person did this collection's part: the engine does not ask it again.
            task.status, task.result = TaskState.done, {"by_staff": True}
    context.changes = changes_of(vault, request)
    for phase in PHASES[request.type]:
        if phase == CORRECTION and not context.changes:
            continue  # nothing to apply until staff map the corrections
        for key in found.graph.nodes:
            if (phase, key) not in context.tasks:
                task = CollectionTask(
                    request_id=request.id, phase=phase, dataset=key[0], collection=key[1]
                )
                db.add(task)
                context.tasks[(phase, key)] = task
    if request.status == Status.needs_attention:
        move(
            db,
            vault,
            request,
            Status.in_progress,
            actor=SYSTEM,
            action=AuditAction.request_resumed,
            now=utcnow(),
        )
    db.flush()
    db.expunge_all()
    return context


# -- access: the traversal, saved step by step -------------------------------------------------


@contextmanager
def _connectors(
    factory: sessionmaker[Session], vault: Vault, context: Context
) -> Iterator[dict[str, Connector]]:
    """Connectors by dataset key (a datastore's connector serves each of its datasets)."""
    assert context.ack_links is not None  # set by `run`
    for_request = registry.RequestContext(
        context.request_id, context.identities, factory, vault, context.ack_links
    )
    with registry.opened(context.connector_settings, for_request) as by_store:
        yield {dataset: by_store[store] for dataset, store in context.datastore_of.items()}


def _by_datastore(
    keys: Iterable[CollectionKey], connectors: Mapping[str, Connector]
) -> list[tuple[Connector, list[CollectionKey]]]:
    """`keys` grouped by the connector that serves them, each group in the order given."""
    groups: dict[int, tuple[Connector, list[CollectionKey]]] = {}
    for key in keys:
        connector = connectors[key[0]]
        groups.setdefault(id(connector), (connector, []))[1].append(key)
    return list(groups.values())


@contextmanager
def _batches(context: Context, connectors: Mapping[str, Connector]) -> Iterator[None]:
    """The whole walk in one batch per datastore that offers one: one connection for all its
    reads rather than one per read. Reads change nothing, so nothing waits for a commit."""
    with ExitStack() as stack:
        for connector, keys in _by_datastore(context.graph.nodes, connectors):
            specs = [context.graph.nodes[key].spec for key in keys]
            stack.enter_context(batched(connector, specs))
        yield


def _state_of(vault: Vault, context: Context, task: CollectionTask) -> CollectionState | None:
    if not task.state_ciphertext:
        return None
    text = vault.decrypt_for_subject(context.subject_id, task.state_ciphertext, _aad(task))
    return CollectionState.from_json(text)


def _aad(task: CollectionTask) -> str:
    return f"dsr_collection_tasks:{task.request_id}:{task.phase}:{task.dataset}:{task.collection}"


def _access(
    factory: sessionmaker[Session],
    vault: Vault,
    context: Context,
    now: Callable[[], datetime],
) -> dict[CollectionKey, CollectionState] | None:
    """The rows of every collection, or None when some datastore failed (or waits for staff)."""
    states: dict[CollectionKey, CollectionState] = {}
    for key in context.graph.nodes:
        state = _state_of(vault, context, context.tasks[(ACCESS, key)])
        if state is not None:
            states[key] = state
    if all(context.tasks[(ACCESS, key)].status == TaskState.done for key in context.graph.nodes):
        return states

    def save(key: CollectionKey, state: CollectionState, failure: StepFailure | None) -> None:
        with unit_of_work(factory) as db:
            task = db.get_one(CollectionTask, context.tasks[(ACCESS, key)].id)
            task.state_ciphertext = vault.encrypt_for_subject(
                context.subject_id, state.to_json(), _aad(task)
            )
            _mark(task, failure, now())

    answered = frozenset(
        key for key in context.graph.nodes if context.tasks[(ACCESS, key)].status == TaskState.done
    )
    with _connectors(factory, vault, context) as connectors, _batches(context, connectors):
        result = traverse(context.graph, context.seeds, connectors, states, save, answered)
    with unit_of_work(factory) as db:
        tasks = {
            key: db.get_one(CollectionTask, context.tasks[(ACCESS, key)].id)
            for key in context.graph.nodes
        }
        for key, task in tasks.items():
            if result.complete:
                task.status, task.last_error, task.next_attempt_at = TaskState.done, None, None
                task.result = {"found": len(result.states[key].rows)}
            elif key not in result.failures and task.status != TaskState.done:
                # Values from a failed collection may still lead here: not done until the
                # whole walk is. What it found so far is saved and never asked for again.
                task.status = TaskState.pending
                task.result = {"found": len(result.states[key].rows), "so_far": True}
        _after_failures(db, vault, context, list(result.failures.values()), ACCESS, now())
        for task in tasks.values():
            context.tasks[(ACCESS, (task.dataset, task.collection))] = task
        db.flush()
        db.expunge_all()
    return result.states if result.complete else None


def _mark(task: CollectionTask, failure: StepFailure | None, at: datetime) -> None:
    task.updated_at = at
    if failure is None:
        return
    task.last_error = failure.error[:500]
    if failure.waiting:
        task.status = TaskState.waiting
        task.next_attempt_at = at + WAITING_POLL
        return
    if failure.manual is not None:
        task.status = TaskState.manual
        return
    task.status = TaskState.failed
    task.attempts += 1
    # A failure that will not pass by itself (an unknown table) waits for staff, not a timer.
    task.next_attempt_at = at + backoff(task.attempts) if failure.retryable else None


def _after_failures(
    db: Session,
    vault: Vault,
    context: Context,
    failures: list[StepFailure],
    phase: str,
    at: datetime,
) -> None:
    """Failed datastores put the request in `needs_attention`, naming each and why; work only a
    person can do becomes a staff task (once)."""
    request = load(db, context.request_id, lock=True)
    for failure in failures:
        if failure.manual is not None:
            _manual_task(db, request, staff_task_name(context, phase, failure.key), at)
    broken = [f for f in failures if f.manual is None]
    if not broken:
        return
    note = "; ".join(sorted({f.error for f in broken}))
    if request.status != Status.needs_attention:
        move(
            db,
            vault,
            request,
            Status.needs_attention,
            actor=SYSTEM,
            action=AuditAction.request_needs_attention,
            now=at,
            note=note,
            details={"datastores": sorted({f.key[0] for f in broken}), "phase": phase},
        )
    else:
        add_event(db, vault, request, actor=SYSTEM, action="retry_failed", now=at, note=note)


def staff_task_name(context: Context, phase: str, key: CollectionKey) -> str:
    """The staff task standing for a collection only a person can search or change."""
    return f"{phase}: {context.datastore_of.get(key[0], key[0])}/{key[1]}"[:200]


def _manual_task(db: Session, request: DataRequest, name: str, at: datetime) -> None:
    existing = db.scalar(
        select(RequestTask).where(RequestTask.request_id == request.id, RequestTask.name == name)
    )
    if existing is None:
        workflow.add_task(db, request.id, name, actor=SYSTEM, now=at)


# -- erasure and correction: per datastore, one batch each ------------------------------------


def masking_key(db: Session, vault: Vault) -> bytes:
    """The platform's key for keyed hashes (the same value hashes the same in every table, so
    a loyalty id masked in two tables still links them, yet reveals nothing)."""
    from privacyops.errors import NotFound

    try:
        return base64.b64decode(secrets.get_secret(db, vault, MASKING_KEY_SECRET))
    except NotFound:
        key = os.urandom(32)
        secrets.set_secret(db, vault, MASKING_KEY_SECRET, base64.b64encode(key).decode("ascii"))
        return key


def _erasure(
    factory: sessionmaker[Session],
    vault: Vault,
    context: Context,
    states: Mapping[CollectionKey, CollectionState],
    now: Callable[[], datetime],
) -> bool:
    """Erase collection by collection, children first; True when every collection is done."""
    rules = ErasureRules.from_manifest(context.manifest)
    with unit_of_work(factory) as db:
        key_bytes = masking_key(db, vault)

    def erase(connector: Connector, key: CollectionKey) -> Outcome:
        node = context.graph.nodes[key]
        plan = plan_erasure(
            node,
            states.get(key, CollectionState()).rows,
            rules,
            key_bytes,
            held=context.held,
            key_field=choose_key_field(node, context.graph),
        )
        _apply(connector, node.spec, plan, context.held)
        return plan.summary(), None

    return _phase(factory, vault, context, ERASURE, context.graph.erasure_order(), erase, now)


def _apply(
    connector: Connector, spec: CollectionSpec, plan: CollectionErasure, held: str | None
) -> None:
    if isinstance(connector, EmailProcessorConnector):
        # We cannot read a processor's rows, so its plan is empty: tell it anyway (unless a
        # legal hold keeps the subject's data) and wait for its confirmation.
        if held is None:
            connector.delete(spec, plan.key_field, plan.deletes)
        return
    if plan.deletes:
        connector.delete(spec, plan.key_field, plan.deletes)
    if plan.updates:
        connector.mask(spec, plan.key_field, plan.updates)


def _correction(
    factory: sessionmaker[Session],
    vault: Vault,
    context: Context,
    states: Mapping[CollectionKey, CollectionState],
    now: Callable[[], datetime],
) -> bool:
    """Apply the mapped changes to the subject's rows; True when every collection is done.

    Each change of a row keeps its old and new value under the subject's key (the task's
    state), so what was corrected can be shown, and undone by a person if it was wrong."""
    if not context.changes:
        return False

    def correct(connector: Connector, key: CollectionKey) -> Outcome:
        node = context.graph.nodes[key]
        wanted = [c for c in context.changes if (c.dataset, c.collection) == key]
        key_field = choose_key_field(node, context.graph)
        if isinstance(connector, EmailProcessorConnector):
            # Its rows are unreadable: one instruction with the new values, by identity.
            if wanted:
                connector.correct(node.spec, key_field, None, {c.field: c.value for c in wanted})
            wanted = []
        log: list[dict[str, object]] = []
        for change in wanted:
            for row in states.get(key, CollectionState()).rows:
                if row.get(change.field) == change.value:
                    continue
                connector.correct(
                    node.spec, key_field, row[key_field], {change.field: change.value}
                )
                old = row.get(change.field)
                log.append(
                    {
                        "target": change.target,
                        "key": row[key_field],
                        "old": old,
                        "new": change.value,
                    }
                )
        result = {"changed": len(log), "fields": sorted({c.target for c in wanted})}
        return result, log

    keys = [key for key in context.graph.nodes if (CORRECTION, key) in context.tasks]
    return _phase(factory, vault, context, CORRECTION, keys, correct, now)


# What one collection's step gives back: its figures, and what to keep under the subject's key.
Outcome = tuple[dict[str, object], object | None]
Step = Callable[[Connector, CollectionKey], Outcome]


def _phase(
    factory: sessionmaker[Session],
    vault: Vault,
    context: Context,
    phase: str,
    keys: list[CollectionKey],
    step: Step,
    now: Callable[[], datetime],
) -> bool:
    """Run `step` on each collection not done yet, datastore by datastore (`_Run`); a
    datastore that fails is not asked again in this run. True when every collection is done."""
    failures: list[StepFailure] = []
    todo = [key for key in keys if context.tasks[(phase, key)].status != TaskState.done]
    run = _Run(factory, vault, context, phase, now)
    with _connectors(factory, vault, context) as connectors:
        for connector, group in _by_datastore(todo, connectors):
            failures.extend(run.on_datastore(connector, group, step))
    if failures:
        with unit_of_work(factory) as db:
            _after_failures(db, vault, context, failures, phase, now())
        return False
    return all(context.tasks[(phase, key)].status == TaskState.done for key in keys)


class _Undone(Exception):
    """Leaves a batch so that the datastore rolls it back: `failure` is why."""

    def __init__(self, failure: StepFailure) -> None:
        super().__init__(failure.error)
        self.failure = failure


@dataclass
class _Run:
    """One phase's work, datastore by datastore, and how its outcomes are saved."""

    factory: sessionmaker[Session]
    vault: Vault
    context: Context
    phase: str
    now: Callable[[], datetime]

    def on_datastore(
        self, connector: Connector, keys: list[CollectionKey], step: Step
    ) -> list[StepFailure]:
        """The datastore's collections in order, stopping at the first failure; the failures."""
        if isinstance(connector, Batching):
            return self.in_one_batch(connector, keys, step)
        return self.one_by_one(connector, keys, step)

    def one_by_one(
        self, connector: Connector, keys: list[CollectionKey], step: Step
    ) -> list[StepFailure]:
        """Each call stands on its own: each outcome is saved as soon as it is done."""
        for key in keys:
            outcome, failure = _guarded(key, step, connector)
            self.save(key, outcome, failure)
            if failure is not None and not failure.waiting:
                return [failure]
        return []

    def in_one_batch(
        self, connector: Connector, keys: list[CollectionKey], step: Step
    ) -> list[StepFailure]:
        """All the collections in one batch (one transaction, committed once).

        A collection is saved as done only after that commit, so our records never claim what
        the datastore did not keep. A failure rolls the whole batch back: the failing
        collection is marked failed and the others stay to do. If the commit itself fails,
        each of them is marked failed. (A re-run after a crash between the commit and the save
        changes nothing: the masked values are deterministic.)"""
        specs = [self.context.graph.nodes[key].spec for key in keys]
        settled: list[tuple[CollectionKey, Outcome | None, StepFailure | None]] = []
        try:
            with batched(connector, specs):
                for key in keys:
                    outcome, failure = _guarded(key, step, connector)
                    if failure is not None and not failure.waiting:
                        raise _Undone(failure)
                    settled.append((key, outcome, failure))
        except _Undone as undone:
            self.undone([key for key, _outcome, _waiting in settled])
            self.save(undone.failure.key, None, undone.failure)
            return [undone.failure]
        except ConnectorError as error:
            # Only the commit raises here: the datastore kept none of the batch.
            failures = [StepFailure(key, str(error), error.retryable) for key, *_ in settled]
            for failure in failures:
                self.save(failure.key, None, failure)
            return failures
        for key, outcome, waiting in settled:
            self.save(key, outcome, waiting)
        return []

    def save(
        self, key: CollectionKey, outcome: Outcome | None, failure: StepFailure | None
    ) -> None:
        _save_step(
            self.factory, self.vault, self.context, self.phase, key, outcome, failure, self.now()
        )

    def undone(self, keys: list[CollectionKey]) -> None:
        """Collections whose work a failure rolled back: to do again, with no failure of their
        own (a stale one would bring the next run forward, past the failing one's back-off)."""
        if not keys:
            return
        at = self.now()
        with unit_of_work(self.factory) as db:
            tasks = [
                db.get_one(CollectionTask, self.context.tasks[(self.phase, k)].id) for k in keys
            ]
            for task in tasks:
                task.status, task.last_error, task.next_attempt_at = TaskState.pending, None, None
                task.updated_at = at
            db.flush()
            db.expunge_all()
        for key, task in zip(keys, tasks, strict=True):
            self.context.tasks[(self.phase, key)] = task


def _guarded(
    key: CollectionKey, step: Step, connector: Connector
) -> tuple[Outcome | None, StepFailure | None]:
    """The step's outcome, or why it could not be done (a person, a processor, a failure)."""
    try:
        return step(connector, key), None
    except AwaitingProcessor as waiting:
        return None, StepFailure(key, str(waiting), retryable=True, waiting=True)
    except ManualTaskRequired as task:
        return None, StepFailure(key, str(task), retryable=False, manual=task)
    except ConnectorError as error:
        return None, StepFailure(key, str(error), retryable=error.retryable)


def _save_step(
    factory: sessionmaker[Session],
    vault: Vault,
    context: Context,
    phase: str,
    key: CollectionKey,
    outcome: Outcome | None,
    failure: StepFailure | None,
    at: datetime,
) -> None:
    with unit_of_work(factory) as db:
        saved = db.get_one(CollectionTask, context.tasks[(phase, key)].id)
        _mark(saved, failure, at)
        if failure is None and outcome is not None:
            result, kept = outcome
            saved.status, saved.last_error, saved.next_attempt_at = TaskState.done, None, None
            saved.result = result
            if kept is not None:
                saved.state_ciphertext = vault.encrypt_for_subject(
                    context.subject_id, dumps(kept), _aad(saved)
                )
        db.flush()
        db.expunge(saved)
        context.tasks[(phase, key)] = saved


# -- the end: packages, completion, shredding --------------------------------------------------


def _finish(
    factory: sessionmaker[Session],
    vault: Vault,
    links: StatusLinks,
    context: Context,
    states: Mapping[CollectionKey, CollectionState],
    now: Callable[[], datetime],
    package_days: int,
) -> str:
    from privacyops.dsr import downloads

    with unit_of_work(factory) as db:
        request = load(db, context.request_id, lock=True)
        if request.status not in RUNNABLE:
            return request.status
        at = now()
        if context.type in (RequestType.access, RequestType.portability):
            found = [_found(context, key, state) for key, state in states.items() if state.rows]
            downloads.store_packages(
                db, vault, request, found, context.manifest, at, days=package_days
            )
        _audit_datastores(db, vault, context, request)
        if workflow.pending_manual(db, request):
            return request.status
        workflow.complete(db, vault, links, request, actor=SYSTEM, now=at)
        status = request.status
    if ERASURE in PHASES[context.type] and context.held is None:
        _shred(factory, vault, context.subject_id)
    return status


def _found(context: Context, key: CollectionKey, state: CollectionState) -> object:
    from privacyops.connectors.graph import FoundCollection

    return FoundCollection(context.graph.nodes[key], list(state.rows))


def _audit_datastores(db: Session, vault: Vault, context: Context, request: DataRequest) -> None:
    """One audit event per datastore: which collections were searched (and erased), the figures."""
    phases = PHASES[context.type]
    action = AuditAction.datastore_searched
    if ERASURE in phases:
        action = AuditAction.datastore_erased
    elif CORRECTION in phases:
        action = AuditAction.datastore_corrected
    by_store: dict[str, dict[str, object]] = {}
    for (phase, key), task in context.tasks.items():
        store = context.datastore_of.get(key[0], key[0])
        by_store.setdefault(store, {})[f"{phase}:{key[0]}.{key[1]}"] = task.result
    for store, details in sorted(by_store.items()):
        record(
            db,
            action,
            actor=SYSTEM,
            target=f"datastore:{store}",
            subject=vault.subject_hash(request.subject_id),
            details={"request": request.id, "collections": details},
        )


def _shred(factory: sessionmaker[Session], vault: Vault, subject_id: str) -> None:
    """The last step of an erasure: the subject's key goes, and with it every copy we hold
    (request records, stored rows, packages) that was encrypted under it."""
    with unit_of_work(factory) as db:
        shred_subject(db, vault, subject_id)
        record(
            db,
            AuditAction.subject_shredded,
            actor=SYSTEM,
            subject=vault.subject_hash(subject_id),
            details={"reason": "erasure request"},
        )


# -- the resume job ----------------------------------------------------------------------------


def due_for_a_run(db: Session, at: datetime, stale: timedelta = timedelta(minutes=5)) -> list[str]:
    """Requests whose datastore work should run now: never started (a lost job), failed with
    the back-off passed, or left half-done by a killed worker."""
    candidates = db.scalars(
        select(DataRequest.id).where(
            DataRequest.status.in_(RUNNABLE),
            DataRequest.verified_at.is_not(None),
            DataRequest.type.in_(list(PHASES)),
        )
    ).all()
    return [r for r in candidates if _request_due(_tasks(db, r), at, stale)]


def _request_due(tasks: list[CollectionTask], at: datetime, stale: timedelta) -> bool:
    if not tasks:
        return True
    failed = [t for t in tasks if t.status in (TaskState.failed, TaskState.waiting)]
    if failed:
        # The back-off (or the poll of a processor's confirmation) decides; a failure staff
        # must fix (no next attempt) waits for them.
        return any(t.next_attempt_at is not None and t.next_attempt_at <= at for t in failed)
    return any(t.status == TaskState.pending and t.updated_at <= at - stale for t in tasks)
