"""The Celery application: every registered job becomes a task of the same name."""

from __future__ import annotations

from typing import Any

from celery import Celery

from privacyops.jobs.registry import registered, run_job
from privacyops.settings import Settings, get_settings

_APPS: dict[str, Celery] = {}


def celery_app(settings: Settings | None = None) -> Celery:
    """One Celery app per broker, built on first use."""
    settings = settings or get_settings()
    if settings.redis_url not in _APPS:
        _APPS[settings.redis_url] = _build(settings)
    return _APPS[settings.redis_url]


def _build(settings: Settings) -> Celery:
    app = Celery("privacyops", broker=settings.redis_url, backend=None)
    app.conf.update(
        # A job is acknowledged only after it ran, so a killed worker's job runs again elsewhere;
        # jobs are idempotent, so that is safe.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        beat_schedule={
            job.name: {"task": job.name, "schedule": float(job.every_seconds)}
            for job in registered().values()
            if job.every_seconds
        },
    )
    for name in registered():
        _register(app, name, settings)
    return app


def _register(app: Celery, name: str, settings: Settings) -> None:
    def run(**kwargs: Any) -> None:
        run_job(name, settings, kwargs)

    app.task(name=name, bind=False)(run)
