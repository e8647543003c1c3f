"""Background work: a registry of jobs, and queues that run them in-process or on Celery workers.

Jobs are handed ids and plain values, never ORM objects; each opens its own session and is
idempotent, so running one twice (a retry, a killed worker) changes nothing more.
"""
