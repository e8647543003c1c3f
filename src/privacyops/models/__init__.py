"""All ORM models, one module per domain. Importing this package registers every table."""

from privacyops.models.audit import AuditChainHead, AuditEvent
from privacyops.models.connectors import (  # noqa: F401
    AccessPackage,
    CollectionTask,
    Datastore,
    LegalHold,
    ProcessorInstruction,
)
from privacyops.models.consent import (  # noqa: F401
    ConsentDecision,
    ConsentPropagation,
    ConsentRecord,
)
from privacyops.models.dsr import DataRequest, OutgoingMail  # noqa: F401
from privacyops.models.identity import DataSubject, SubjectIdentity  # noqa: F401
from privacyops.models.policy import PolicyVersion
from privacyops.models.staff import ApiToken, StaffMember, StaffSession  # noqa: F401
from privacyops.models.vault import VaultSecret  # noqa: F401

__all__ = ["AuditChainHead", "AuditEvent", "PolicyVersion"]
