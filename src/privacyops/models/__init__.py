"""All ORM models, one module per domain. Importing this package registers every table."""

from privacyops.models.audit import AuditChainHead, AuditEvent
from privacyops.models.policy import PolicyVersion

__all__ = ["AuditChainHead", "AuditEvent", "PolicyVersion"]
