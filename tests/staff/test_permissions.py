"""The one permission table: each role's exact permissions, least privilege."""

from __future__ import annotations

import pytest

from privacyops.staff.permissions import ROLE_PERMISSIONS, Permission, Role, allows, within

P = Permission
EXPECTED = {
    Role.admin: {
        P.console_use,
        P.tokens_manage_own,
        P.staff_read,
        P.staff_manage,
        P.settings_manage,
        P.audit_read,
        P.audit_export,
        P.reports_read,
    },
    Role.privacy_officer: {
        P.console_use,
        P.tokens_manage_own,
        P.requests_enter,
        P.requests_read,
        P.requests_decide,
        P.packages_read,
        P.policy_publish,
        P.legal_holds_manage,
        P.reports_read,
        P.consent_read,
        P.consent_record,
        P.consent_history,
    },
    Role.agent: {
        P.console_use,
        P.tokens_manage_own,
        P.requests_enter,
        P.requests_read,
        # Customer service takes "please stop emailing me" by phone and looks up what a caller
        # chose.
        P.consent_read,
        P.consent_record,
        P.consent_history,
    },
    Role.engineer: {
        P.console_use,
        P.tokens_manage_own,
        P.connectors_manage,
        P.datasets_manage,
        # The retailer's systems ask before they email, text or target anyone, and pass on
        # unsubscribes and SMS replies: a yes or no per person, never their records.
        P.consent_read,
        P.consent_record,
    },
    Role.auditor: {
        P.console_use,
        P.tokens_manage_own,
        P.audit_read,
        P.audit_export,
        P.reports_read,
    },
}
PERSONAL_DATA = {P.requests_read, P.requests_enter, P.requests_decide, P.packages_read}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_has_exactly_its_permissions(role: Role) -> None:
    assert set(ROLE_PERMISSIONS[role]) == EXPECTED[role]
    for permission in Permission:
        assert allows(role, permission) is (permission in EXPECTED[role])


def test_every_role_is_in_the_table() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)


def test_least_privilege_promises_of_the_issue() -> None:
    assert not allows(Role.agent, P.packages_read)
    assert not PERSONAL_DATA & ROLE_PERMISSIONS[Role.engineer]
    assert not PERSONAL_DATA & ROLE_PERMISSIONS[Role.auditor]
    assert not PERSONAL_DATA & ROLE_PERMISSIONS[Role.admin]
    assert not any(allows(role, P.staff_manage) for role in Role if role is not Role.admin)
    # The audit log is read by auditors and admins only, and nobody can change it.
    assert {r for r in Role if allows(r, P.audit_read)} == {Role.admin, Role.auditor}


def test_token_scope_is_a_subset_of_the_owner() -> None:
    assert within(Role.auditor, Role.admin)
    assert within(Role.agent, Role.privacy_officer)
    assert not within(Role.admin, Role.auditor)
    assert not within(Role.privacy_officer, Role.agent)
    assert not within(Role.engineer, Role.admin)
    assert all(within(role, role) for role in Role)
