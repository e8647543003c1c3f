"""Consent receipts in the Kantara Initiative Consent Receipt v1.1 shape (reference notes,
section 6.1: `KantaraInitiative/consent-receipt-v-next`, CR_v1_1 schema, DRAFT 6).

The receipt names the person by their pseudonymous subject id (or the browser id), never an
email. Kantara has no field for a refusal or a withdrawal, so the choice itself travels in an
`x-privacyops` extension member (the schema allows additional members).
"""

from __future__ import annotations

import uuid
from typing import Any

from privacyops.consent.purposes import (
    EMAIL,
    NEVADA,
    PROFILING,
    PROMOTIONS,
    SALE,
    SENSITIVE,
    SMS,
    TARGETED,
    purpose,
)
from privacyops.models.consent import ConsentRecord
from privacyops.policy.manifest import PolicyManifest

VERSION = "KI-CR-v1.1.0"
# The Kantara purpose categories each of our purposes falls under.
_CATEGORIES: dict[str, list[str]] = {
    EMAIL: ["6 - Marketing"],
    SMS: ["6 - Marketing"],
    TARGETED: ["9 - Sharing for Marketing"],
    SALE: ["7 - Marketing Third Parties"],
    PROFILING: ["5 - Personalized Experience"],
    SENSITIVE: ["16 - Improve Performance"],
    PROMOTIONS: ["6 - Marketing"],
    NEVADA: ["4 - Contact Requested"],
}
_PII: dict[str, list[str]] = {
    EMAIL: ["2 - Contact"],
    SMS: ["2 - Contact"],
    TARGETED: ["15 - Behavioral", "5 - Network/Service"],
    SALE: ["2 - Contact", "15 - Behavioral"],
    PROFILING: ["16 - Profiling"],
    SENSITIVE: ["1 - Biographical"],
    PROMOTIONS: ["1 - Biographical", "4 - Communications/Social"],
    NEVADA: ["2 - Contact"],
}
_METHODS = {
    "banner": "Cookie banner on the website",
    "gpc": "Global Privacy Control signal sent by the browser",
    "unsubscribe_link": "One-click unsubscribe link in a marketing email (RFC 8058)",
    "sms_reply": "Reply to a marketing text message",
    "preference_page": "Preferences page reached through a link mailed to the person",
    "staff": "Recorded by customer-service staff",
    "api": "Recorded by the retailer's systems through the consent API",
    "import": "Imported from an earlier consent system",
}
_EXPLICIT = {"banner", "unsubscribe_link", "sms_reply", "preference_page", "staff", "api"}


def receipt(entry: ConsentRecord, manifest: PolicyManifest, public_url: str) -> dict[str, Any]:
    chosen = purpose(entry.purpose)
    org = manifest.organization
    third = [r.name for r in manifest.recipients if r.sale or r.share]
    shares = chosen.key in (SALE, TARGETED)
    item: dict[str, Any] = {
        "purpose": f"{chosen.name}: {chosen.description}",
        "consentType": "EXPLICIT" if entry.method in _EXPLICIT else "IMPLICIT",
        "purposeCategory": _CATEGORIES.get(chosen.key, ["1 - Core Function"]),
        "piiCategory": _PII.get(chosen.key, ["5 - Network/Service"]),
        "primaryPurpose": False,
        "termination": "Until the person changes the choice",
        "thirdPartyDisclosure": shares and bool(third),
    }
    if item["thirdPartyDisclosure"]:
        item["thirdPartyName"] = ", ".join(third)
    policy_url = (
        f"{public_url}/policy/versions/{entry.policy_version}"
        if entry.policy_version
        else f"{public_url}/policy"
    )
    return {
        "version": VERSION,
        "jurisdiction": f"US-{entry.state}" if entry.state else "US",
        "consentTimestamp": int(entry.recorded_at.timestamp()),
        "collectionMethod": _METHODS.get(entry.method, entry.method),
        "consentReceiptID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{public_url}/consent/{entry.id}")),
        "language": "en",
        "piiPrincipalId": entry.subject_id or f"browser:{entry.browser_id}",
        "piiControllers": [
            {
                "piiController": org.legal_name or org.name,
                "onBehalf": False,
                "contact": org.name,
                "address": {
                    "streetAddress": org.postal_address.street,
                    "addressLocality": org.postal_address.city,
                    "addressRegion": org.postal_address.region,
                    "postalCode": org.postal_address.postal_code,
                    "addressCountry": org.postal_address.country,
                },
                "email": org.email,
                "phone": org.phone or "",
                "piiControllerUrl": org.website or public_url,
            }
        ],
        "policyUrl": policy_url,
        "services": [{"service": org.name, "purposes": [item]}],
        "sensitive": chosen.key == SENSITIVE,
        "spiCat": ["Special categories used for market-trend analysis"]
        if chosen.key == SENSITIVE
        else [],
        "x-privacyops": {
            "recordId": entry.id,
            "purposeKey": chosen.key,
            "allowed": entry.allowed,
            "method": entry.method,
            "policyVersion": entry.policy_version,
            "wordingSha256": entry.wording_sha256,
        },
    }
