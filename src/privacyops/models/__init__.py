"""All ORM models, one module per domain. Importing this package registers every table."""

from privacyops.models.policy import PolicyVersion

__all__ = ["PolicyVersion"]
