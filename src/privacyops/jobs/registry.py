"""The registry of jobs: one name, one function, whichever queue runs it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from privacyops.errors import NotFound
from privacyops.settings import Settings

JobFunction = Callable[..., None]


@dataclass(frozen=True)
class Job:
    name: str
    function: JobFunction
    every_seconds: int | None  # periodic jobs: how often the scheduler queues them


_JOBS: dict[str, Job] = {}


def job(name: str, *, every_seconds: int | None = None) -> Callable[[JobFunction], JobFunction]:
    """Register `function(settings, **kwargs)` under `name` (and, if periodic, its interval)."""

    def register(function: JobFunction) -> JobFunction:
        _JOBS[name] = Job(name, function, every_seconds)
        return function

    return register


def registered() -> dict[str, Job]:
    load_job_modules()
    return dict(_JOBS)


def run_job(name: str, settings: Settings, kwargs: dict[str, Any] | None = None) -> None:
    load_job_modules()
    found = _JOBS.get(name)
    if found is None:
        raise NotFound(f"no job named {name!r}; known jobs: {', '.join(sorted(_JOBS)) or 'none'}")
    found.function(settings, **(kwargs or {}))


# Modules whose import registers jobs; each domain adds its `tasks` module here.
JOB_MODULES: list[str] = ["privacyops.dsr.tasks", "privacyops.consent.tasks"]


def load_job_modules() -> None:
    import importlib

    for module in JOB_MODULES:
        importlib.import_module(module)
