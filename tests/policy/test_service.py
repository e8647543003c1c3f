"""Publishing versions: first import, idempotency, the notice period, immutability, in force."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session

from privacyops.errors import InvalidInput, NotFound
from privacyops.models.policy import PolicyVersion
from privacyops.policy import repository, service
from privacyops.policy.loader import LoadedManifest, load_manifest_text
from privacyops.policy.service import PublishRefused
from tests.policy.test_diff import AD_PARTNER, base_data

TODAY = date(2026, 11, 27)
FIRST_EFFECTIVE = date(2026, 1, 15)


def loaded(data: dict[str, Any], filename: str = "policy.yaml") -> LoadedManifest:
    return load_manifest_text(yaml.safe_dump(data, sort_keys=False), filename)


def with_changes(**sections: Any) -> dict[str, Any]:
    data = base_data()
    data.update(sections)
    return data


def material_data() -> dict[str, Any]:
    """The minimal policy plus a new recipient: a material change."""
    data = base_data()
    data["recipients"].append(AD_PARTNER)
    return data


def publish(db: Session, data: dict[str, Any], effective_on: date) -> service.PublishResult:
    return service.publish(db, loaded(data), effective_on, TODAY, published_by="alice")


def first_version(db: Session) -> PolicyVersion:
    return publish(db, base_data(), FIRST_EFFECTIVE).version


def test_first_version_may_be_backdated_and_stores_the_contract(db: Session) -> None:
    source = loaded(base_data())
    result = service.publish(db, source, FIRST_EFFECTIVE, TODAY, published_by="alice")
    version = result.version
    assert result.created is True
    assert result.message == "published version 1, effective on 2026-01-15 (first version)"
    assert (version.number, version.effective_on, version.published_by) == (
        1,
        FIRST_EFFECTIVE,
        "alice",
    )
    assert source.manifest is not None
    assert version.manifest == source.manifest.model_dump(mode="json", by_alias=True)
    assert version.source_yaml == source.text
    canonical = json.dumps(version.manifest, sort_keys=True, separators=(",", ":"))
    assert version.content_hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert (version.material_change, version.change_summary) == (False, [])
    assert version.published_at.tzinfo is not None


def test_publishing_identical_content_again_is_a_no_op(db: Session) -> None:
    first = first_version(db)
    # The same content written differently (key order, a comment) is the same policy.
    text = "# reformatted\n" + yaml.safe_dump(base_data(), sort_keys=True)
    again = service.publish(
        db, load_manifest_text(text, "other.yaml"), TODAY, TODAY, published_by="bob"
    )
    assert again.created is False
    assert again.version.number == first.number
    assert again.message == (
        "no change: identical to version 1 (effective on 2026-01-15); nothing published"
    )
    assert repository.count_versions(db) == 1


def test_material_change_before_the_notice_period_is_refused(db: Session) -> None:
    first_version(db)
    with pytest.raises(PublishRefused) as refused:
        publish(db, material_data(), date(2026, 12, 1))
    assert refused.value.message == (
        "material change: it may take effect on 2026-12-27 at the earliest "
        "(30 days' notice, policy section 13); effective date given: 2026-12-01"
    )
    assert refused.value.status_code == 409
    assert repository.count_versions(db) == 1


def test_material_change_is_allowed_on_the_earliest_date(db: Session) -> None:
    first_version(db)
    result = publish(db, material_data(), TODAY + timedelta(days=30))
    version = result.version
    assert (version.number, version.effective_on, version.material_change) == (
        2,
        date(2026, 12, 27),
        True,
    )
    assert result.message == (
        "published version 2, effective on 2026-12-27: material change (1 of 1 changes material)"
    )
    assert version.change_summary == [
        {
            "path": "recipients[ad_partner]",
            "kind": "added",
            "old": None,
            "new": {
                **AD_PARTNER,
                "sale": False,
                "share": False,
                "requires_consent": False,
                "location": None,
            },
            "material": True,
            "description": "new recipient 'ad_partner' (Advertising partner)",
            "reason": "personal information goes to more recipients",
        }
    ]


def test_the_longer_notice_period_applies_when_notice_is_shortened(db: Session) -> None:
    first_version(db)
    data = material_data()
    data["changes"]["notice_days"] = 7
    with pytest.raises(PublishRefused, match=r"on 2026-12-27 at the earliest \(30 days' notice"):
        publish(db, data, TODAY + timedelta(days=7))


def test_a_longer_new_notice_period_applies_to_its_own_change(db: Session) -> None:
    first_version(db)
    data = material_data()
    data["changes"]["notice_days"] = 60
    with pytest.raises(PublishRefused, match=r"on 2027-01-26 at the earliest \(60 days' notice"):
        publish(db, data, TODAY + timedelta(days=30))


def test_non_material_change_may_take_effect_today(db: Session) -> None:
    first_version(db)
    result = publish(db, with_changes(title="Example Shop Privacy Notice"), TODAY)
    assert (result.version.number, result.version.material_change) == (2, False)
    assert result.message == (
        "published version 2, effective on 2026-11-27: no material change (1 minor change)"
    )


def test_later_versions_cannot_be_backdated(db: Session) -> None:
    first_version(db)
    with pytest.raises(PublishRefused) as refused:
        publish(db, with_changes(title="New"), TODAY - timedelta(days=1))
    assert refused.value.message == (
        "effective date 2026-11-26 is in the past; only the first version may be backdated "
        "(today is 2026-11-27)"
    )


def test_versions_take_effect_in_order(db: Session) -> None:
    first_version(db)
    publish(db, material_data(), date(2027, 1, 1))
    with pytest.raises(PublishRefused) as refused:
        publish(db, with_changes(title="New"), date(2026, 12, 31))
    assert refused.value.message == (
        "effective date 2026-12-31 is earlier than that of version 2 (2027-01-01); "
        "versions take effect in the order they are published"
    )


def test_invalid_manifest_is_refused_and_nothing_stored(db: Session) -> None:
    data = base_data()
    data["organization"]["postal_address"]["region"] = "XX"
    with pytest.raises(InvalidInput) as refused:
        publish(db, data, FIRST_EFFECTIVE)
    assert refused.value.message == "policy.yaml: 1 error(s); nothing published"
    assert [p.field for p in refused.value.problems] == ["organization.postal_address.region"]
    assert repository.count_versions(db) == 0


def test_inconsistent_manifest_is_refused(db: Session) -> None:
    data = base_data()
    data["purposes"][0]["data_categories"].append("biometrics")
    with pytest.raises(InvalidInput) as refused:
        publish(db, data, FIRST_EFFECTIVE)
    assert "purposes[0].data_categories[2]" in [p.field for p in refused.value.problems]
    assert repository.count_versions(db) == 0


def test_publisher_name_is_required(db: Session) -> None:
    with pytest.raises(InvalidInput, match="published_by"):
        service.publish(db, loaded(base_data()), FIRST_EFFECTIVE, TODAY, published_by="  ")


def test_published_version_cannot_be_updated(db: Session) -> None:
    version = first_version(db)
    db.commit()
    version.effective_on = date(2020, 1, 1)
    with pytest.raises(PermissionError, match="policy version 1 is published"):
        db.flush()
    db.rollback()
    stored = repository.get_version(db, 1)
    assert stored is not None
    assert stored.effective_on == FIRST_EFFECTIVE


def test_published_version_cannot_be_deleted(db: Session) -> None:
    version = first_version(db)
    db.commit()
    db.delete(version)
    with pytest.raises(PermissionError, match="cannot be deleted"):
        db.flush()
    db.rollback()
    assert repository.count_versions(db) == 1


def test_version_in_force_with_a_scheduled_version(db: Session) -> None:
    first_version(db)
    publish(db, material_data(), date(2026, 12, 27))
    assert service.version_in_force(db, TODAY).number == 1
    assert service.version_in_force(db, date(2026, 12, 26)).number == 1
    assert service.version_in_force(db, date(2026, 12, 27)).number == 2
    upcoming = service.upcoming_material_change(db, TODAY)
    assert upcoming is not None
    assert upcoming.number == 2
    assert service.upcoming_material_change(db, date(2026, 12, 27)) is None
    in_force = repository.version_in_force(db, TODAY)
    statuses = [service.status_of(v, in_force, TODAY) for v in service.list_versions(db).items]
    assert statuses == ["scheduled", "in force"]


def test_nothing_in_force_before_the_first_effective_date(db: Session) -> None:
    first_version(db)
    with pytest.raises(NotFound, match="no policy version is in force on 2026-01-14"):
        service.version_in_force(db, date(2026, 1, 14))


def test_get_version_names_the_missing_number(db: Session) -> None:
    with pytest.raises(NotFound, match="policy version 7 does not exist"):
        service.get_version(db, 7)


def test_list_versions_paginates_newest_first(db: Session) -> None:
    first_version(db)
    for day, title in enumerate(["B", "C", "D"], start=0):
        publish(db, with_changes(title=title), TODAY + timedelta(days=day))
    page = service.list_versions(db, offset=1, limit=2)
    assert [v.number for v in page.items] == [3, 2]
    assert (page.total, page.offset, page.limit) == (4, 1, 2)


@pytest.mark.parametrize(
    ("offset", "limit", "fields"),
    [(-1, 10, ["offset"]), (0, 0, ["limit"]), (0, 101, ["limit"]), (-5, 500, ["offset", "limit"])],
)
def test_list_versions_refuses_bad_pages(
    db: Session, offset: int, limit: int, fields: list[str]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        service.list_versions(db, offset=offset, limit=limit)
    assert [p.field for p in refused.value.problems] == fields


def test_publishing_is_recorded_in_the_audit_log(db: Session) -> None:
    from sqlalchemy import select

    from privacyops.models.audit import AuditEvent

    result = service.publish(
        db, loaded(with_changes()), date(2026, 1, 15), date(2026, 1, 15), "Ada", actor="cli"
    )
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "policy.published")).all()
    assert (event.actor, event.target) == ("cli", f"policy:v{result.version.number}")
    assert event.details == {"effective_on": "2026-01-15", "material": False, "published_by": "Ada"}
