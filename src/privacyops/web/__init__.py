"""Shared web plumbing: problem+json errors, templates, session dependency."""
