"""Data subject (rights) requests: intake, verification, workflow, notices, jobs and the API.

Named `dsr` rather than `requests` so that it never shadows the `requests` library.
"""
