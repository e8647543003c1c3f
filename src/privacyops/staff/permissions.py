"""Roles, permissions and the one table that decides every staff action.

Least privilege (policy section 7): each role gets what its work needs and nothing more.
`allows()` is the only place a decision is made; routes declare a permission with
`privacyops.web.auth.require`, and tests read the table rather than repeating it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    admin = "admin"
    privacy_officer = "privacy_officer"
    agent = "agent"
    engineer = "engineer"
    auditor = "auditor"


class Permission(StrEnum):
    console_use = "console.use"
    staff_read = "staff.read"
    staff_manage = "staff.manage"
    settings_manage = "settings.manage"
    tokens_manage_own = "tokens.manage_own"
    audit_read = "audit.read"
    audit_export = "audit.export"
    reports_read = "reports.read"
    policy_publish = "policy.publish"
    requests_enter = "requests.enter"
    requests_read = "requests.read"
    requests_decide = "requests.decide"
    packages_read = "packages.read"
    legal_holds_manage = "legal_holds.manage"
    connectors_manage = "connectors.manage"
    datasets_manage = "datasets.manage"
    consent_read = "consent.read"
    consent_record = "consent.record"
    consent_history = "consent.history"


P = Permission

# Every role opens the console and manages its own API tokens (a token never exceeds its owner).
_EVERY_ROLE = frozenset({P.console_use, P.tokens_manage_own})

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        # Staff and settings. Reads the audit log (and exports it) to oversee staff, but has
        # no access to requests or personal data: managing accounts is not handling requests.
        Role.admin: _EVERY_ROLE
        | {
            P.staff_read,
            P.staff_manage,
            P.settings_manage,
            P.audit_read,
            P.audit_export,
            P.reports_read,
        },
        # Decides requests, publishes policy versions, places legal holds; sees packages.
        Role.privacy_officer: _EVERY_ROLE
        | {
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
        # Customer service: enters mail and phone requests and follows them; no packages. Takes
        # consent choices by phone, email or in a store ("please stop emailing me") and looks
        # up what a caller chose, as the consent tools of customer service do.
        Role.agent: _EVERY_ROLE
        | {
            P.requests_enter,
            P.requests_read,
            P.consent_read,
            P.consent_record,
            P.consent_history,
        },
        # Connectors, datasets and the consent API the retailer's systems call (decisions, the
        # suppression filter, unsubscribe headers, the SMS gateway's replies): a yes or no per
        # person, never their history; no request, package or audit data.
        Role.engineer: _EVERY_ROLE
        | {P.connectors_manage, P.datasets_manage, P.consent_read, P.consent_record},
        # Reads the audit log and reports, nothing else.
        Role.auditor: _EVERY_ROLE | {P.audit_read, P.audit_export, P.reports_read},
    }
)

DESCRIPTIONS: Mapping[Permission, str] = MappingProxyType(
    {
        P.console_use: "Open the staff console",
        P.staff_read: "See staff accounts",
        P.staff_manage: "Create, disable and change the role of staff accounts",
        P.settings_manage: "Change the platform's settings",
        P.tokens_manage_own: "Create and revoke your own API tokens",
        P.audit_read: "Read the audit log",
        P.audit_export: "Export the audit log",
        P.reports_read: "Read reports",
        P.policy_publish: "Publish privacy policy versions",
        P.requests_enter: "Enter rights requests received by mail or phone",
        P.requests_read: "Follow rights requests",
        P.requests_decide: "Approve or deny rights requests",
        P.packages_read: "Open access packages",
        P.legal_holds_manage: "Place and lift legal holds",
        P.connectors_manage: "Configure connectors",
        P.datasets_manage: "Declare datasets",
        P.consent_read: "Ask consent decisions (a yes or no per person and purpose) and filter "
        "contact lists before a campaign",
        P.consent_history: "Look up a person's consent choices and their history",
        P.consent_record: "Record consent choices on a person's behalf (phone, email, the "
        "retailer's systems), unsubscribe headers and SMS replies",
    }
)


def allows(role: Role, permission: Permission) -> bool:
    """Whether `role` may do `permission`. Unknown roles may do nothing."""
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def permissions_of(role: Role) -> frozenset[Permission]:
    return ROLE_PERMISSIONS.get(role, frozenset())


def within(scope: Role, owner: Role) -> bool:
    """A token scoped to `scope` may belong to `owner`: its permissions are a subset of theirs."""
    return permissions_of(scope) <= permissions_of(owner)
