"""Access packages at rest and on their way to the requester.

Each format is encrypted under the subject's key (crypto-shredding the subject makes the
package unreadable too), linked from the completion mail through a signed token bound to the
request and the format that expires with the package, counted and audited at every download,
and erased when it expires (the row stays as the receipt: when, what size, how many downloads).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.connectors.graph import FoundCollection
from privacyops.dsr.records import SYSTEM
from privacyops.errors import NotFound
from privacyops.models.connectors import AccessPackage
from privacyops.models.dsr import DataRequest
from privacyops.policy.manifest import PolicyManifest
from privacyops.secretkey import load_secret_key
from privacyops.settings import Settings
from privacyops.vault.service import Vault

PACKAGE_DAYS = 30
_SALT = "privacyops.dsr.package"


@dataclass(frozen=True)
class PackageFormat:
    key: str
    label: str
    media_type: str
    extension: str


FORMATS: dict[str, PackageFormat] = {
    "html": PackageFormat("html", "Readable page (HTML)", "text/html; charset=utf-8", "html"),
    "json": PackageFormat("json", "Machine-readable (JSON)", "application/json", "json"),
    "csv": PackageFormat("csv", "Spreadsheets (CSV, zipped)", "application/zip", "zip"),
}


def _aad(request_id: str, fmt: str) -> str:
    return f"dsr_access_packages:{request_id}:{fmt}"


def store_packages(
    db: Session,
    vault: Vault,
    request: DataRequest,
    found: Sequence[object],
    manifest: PolicyManifest,
    at: datetime,
    *,
    days: int = PACKAGE_DAYS,
) -> list[AccessPackage]:
    """Build the three formats and keep them encrypted until `days` from now. Idempotent: a
    package already stored for the request is left as it is."""
    from privacyops.dsr.packages import PackageMeta, build_access_package

    existing = packages_of(db, request.id)
    if existing:
        return existing
    meta = PackageMeta(
        request_id=request.id,
        request_type=request.type,
        generated_at=at,
        policy_version=request.policy_version,
        organization=manifest.organization.name,
        state=request.state,
    )
    built = build_access_package(
        [item for item in found if isinstance(item, FoundCollection)], manifest, meta
    )
    contents = {"json": built.json, "csv": built.csv_zip, "html": built.html}
    stored = []
    for fmt, content in contents.items():
        package = AccessPackage(
            request_id=request.id,
            format=fmt,
            content_ciphertext=vault.encrypt_for_subject(
                request.subject_id, base64.b64encode(content).decode("ascii"), _aad(request.id, fmt)
            ),
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            created_at=at,
            expires_at=at + timedelta(days=days),
            downloads=0,
        )
        db.add(package)
        stored.append(package)
    record(
        db,
        AuditAction.package_created,
        actor=SYSTEM,
        target=f"request:{request.id}",
        subject=vault.subject_hash(request.subject_id),
        details={"formats": sorted(contents), "expires_in_days": days},
    )
    db.flush()
    return stored


def packages_of(db: Session, request_id: str) -> list[AccessPackage]:
    query = select(AccessPackage).where(AccessPackage.request_id == request_id)
    return list(db.scalars(query.order_by(AccessPackage.id)))


@dataclass(frozen=True)
class PackageLinks:
    """Signed download links: bound to the request and the format, valid until the package
    expires (and never after it is erased, whatever the token says)."""

    secret_key: str
    public_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> PackageLinks:
        return cls(load_secret_key(settings), settings.public_url.rstrip("/"))

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret_key, salt=_SALT)

    def url(self, request_id: str, fmt: str) -> str:
        token = self._serializer().dumps({"r": request_id, "f": fmt})
        return f"{self.public_url}/requests/{request_id}/package/{fmt}?token={quote(str(token))}"

    def check(self, request_id: str, fmt: str, token: str | None, max_age_days: int) -> bool:
        if not token or len(token) > 512:
            return False
        try:
            data = self._serializer().loads(token, max_age=max_age_days * 86400)
        except BadSignature:
            return False
        return isinstance(data, dict) and data == {"r": request_id, "f": fmt}


def download_links(
    db: Session, links: PackageLinks, request_id: str, at: datetime
) -> list[tuple[str, str]]:
    """(label, url) of each package still available, for the completion mail and status page."""
    return [
        (FORMATS[p.format].label, links.url(request_id, p.format))
        for p in packages_of(db, request_id)
        if p.content_ciphertext is not None and p.expires_at > at and p.format in FORMATS
    ]


def download(
    db: Session,
    vault: Vault,
    request: DataRequest,
    fmt: str,
    at: datetime,
    *,
    client: str | None,
) -> tuple[PackageFormat, bytes]:
    """The decrypted package; every download is counted and audited."""
    if fmt not in FORMATS:
        raise NotFound(f"no package format {fmt!r}")
    package = db.scalar(
        select(AccessPackage).where(
            AccessPackage.request_id == request.id, AccessPackage.format == fmt
        )
    )
    if package is None or package.content_ciphertext is None or package.expires_at <= at:
        raise NotFound("this package does not exist or has expired")
    text = vault.decrypt_for_subject(
        request.subject_id, package.content_ciphertext, _aad(request.id, fmt)
    )
    package.downloads += 1
    record(
        db,
        AuditAction.package_downloaded,
        actor="consumer",
        target=f"request:{request.id}",
        subject=vault.subject_hash(request.subject_id),
        client=client,
        details={"format": fmt, "download": package.downloads},
    )
    db.flush()
    return FORMATS[fmt], base64.b64decode(text)


def erase_expired(db: Session, at: datetime) -> int:
    """Erase the content of packages past their expiry; the receipt row stays. Idempotent."""
    expired = db.scalars(
        select(AccessPackage).where(
            AccessPackage.expires_at <= at, AccessPackage.content_ciphertext.is_not(None)
        )
    ).all()
    for package in expired:
        package.content_ciphertext = None
        package.deleted_at = at
        record(
            db,
            AuditAction.package_deleted,
            actor=SYSTEM,
            target=f"request:{package.request_id}",
            details={"format": package.format, "reason": "expired"},
        )
    db.flush()
    return len(expired)
