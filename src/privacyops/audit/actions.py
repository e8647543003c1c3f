"""Every action the audit log knows. One list, so reports and filters can rely on the names.

Reads of personal data are actions too (`*.viewed`, `*.downloaded`, `*.exported`): the policy's
section 7 promises that staff only reach what their work needs, and the log shows that it held.
"""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    # staff accounts and sessions
    staff_created = "staff.created"
    staff_disabled = "staff.disabled"
    staff_enabled = "staff.enabled"
    staff_role_changed = "staff.role_changed"
    staff_password_changed = "staff.password_changed"
    staff_login = "staff.login"
    staff_login_failed = "staff.login_failed"
    staff_locked_out = "staff.locked_out"
    staff_logout = "staff.logout"
    staff_listed = "staff.listed"
    token_created = "token.created"
    token_revoked = "token.revoked"
    access_denied = "access.denied"
    # the audit log itself
    audit_viewed = "audit.viewed"
    audit_exported = "audit.exported"
    audit_verified = "audit.verified"
    # policy
    policy_published = "policy.published"
    # vault and identities
    keys_generated = "keys.generated"
    keys_rotated = "keys.rotated"
    keys_retired = "keys.retired"
    subject_created = "subject.created"
    subject_viewed = "subject.viewed"
    subject_shredded = "subject.shredded"
    # rights requests
    request_received = "request.received"
    request_verified = "request.verified"
    request_approved = "request.approved"
    request_denied = "request.denied"
    request_extended = "request.extended"
    request_completed = "request.completed"
    request_canceled = "request.canceled"
    request_note_added = "request.note_added"
    request_task_done = "request.task_done"
    request_viewed = "request.viewed"
    request_purged = "request.purged"
    request_needs_attention = "request.needs_attention"
    request_resumed = "request.resumed"
    request_corrections_mapped = "request.corrections_mapped"
    request_retried = "request.retried"
    # connectors: the engine's reads and changes of personal data in the datastores
    datastore_saved = "datastore.saved"
    datastore_disabled = "datastore.disabled"
    datastore_searched = "datastore.searched"
    datastore_erased = "datastore.erased"
    datastore_corrected = "datastore.corrected"
    package_created = "package.created"
    package_downloaded = "package.downloaded"
    package_deleted = "package.deleted"
    legal_hold_placed = "legal_hold.placed"
    legal_hold_released = "legal_hold.released"
    processor_instructed = "processor.instructed"
    processor_acknowledged = "processor.acknowledged"
    # consent
    consent_recorded = "consent.recorded"
    consent_decided = "consent.decided"
    consent_filtered = "consent.filtered"
    consent_propagated = "consent.propagated"
    consent_viewed = "consent.viewed"  # a person's choices looked up by staff
    consent_imported = "consent.imported"  # one event per import run, counts only
