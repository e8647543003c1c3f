"""The Privacy Center pages: home, the policy in force, a given version, and their errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privacyops.models.policy import PolicyVersion
from privacyops.policy import pages, repository
from privacyops.policy.manifest import PolicyManifest
from tests.htmltree import Node, parse

MINIMAL = Path(__file__).parent / "fixtures" / "minimal-policy.yaml"
TODAY = date(2026, 6, 1)

SECTION_TITLES = [
    "1. Personal Information We Collect",
    "2. How We Collect Personal Information",
    "3. How We Use Personal Information",
    "4. Cookies",
    "5. How We Share Personal Information",
    "6. Location of Personal Information",
    "7. How We Secure Personal Information",
    "8. Your Rights to Access and Control Personal Information",
    "9. Advertising",
    "10. Children's Personal Information",
    "11. Retention of Personal Information",
    "12. How to Contact Us",
    "13. Changes to This Privacy Policy",
    "14. Privacy Rights Under Certain State Privacy Laws",
]


# --- fixtures ------------------------------------------------------------------------------


def minimal_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MINIMAL.read_text())
    return data


def publish(
    db: Session, number: int, effective_on: date, data: dict[str, Any] | None = None
) -> None:
    data = data if data is not None else minimal_data()
    manifest = PolicyManifest.model_validate(data).model_dump(mode="json", by_alias=True)
    store(db, number, effective_on, manifest)


def store(db: Session, number: int, effective_on: date, manifest: dict[str, Any]) -> None:
    repository.add_version(
        db,
        PolicyVersion(
            number=number,
            effective_on=effective_on,
            published_by="test",
            content_hash="x" * 64,
            source_yaml=yaml.safe_dump(manifest),
            manifest=manifest,
        ),
    )
    # add_version flushes, which the client sees; a commit would outlive the test on SQLite.


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "_today", lambda: TODAY)


def get_html(client: TestClient, path: str, status: int = 200) -> Node:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return parse(response.text)


# --- the policy in force -------------------------------------------------------------------


def test_policy_page_has_the_fourteen_sections_in_order(db: Session, client: TestClient) -> None:
    publish(db, 1, date(2026, 1, 15))
    page = get_html(client, "/policy")

    headings = [page.find("section", id=f"section-{n}").find("h2").text() for n in range(1, 15)]
    assert headings == SECTION_TITLES
    toc = [a.attrs["href"] for a in page.find("nav", **{"class": "toc"}).find_all("a")]
    assert toc == [f"#section-{n}" for n in range(1, 15)]
    assert page.find("h1").text() == "Example Shop Privacy Policy"
    meta = page.find("p", **{"class": "meta"}).text()
    assert meta == "Last updated: January 15, 2026 · Version 1, effective January 15, 2026"


def test_policy_page_serves_the_version_in_force(db: Session, client: TestClient) -> None:
    publish(db, 1, date(2026, 1, 1))
    later = minimal_data()
    later["title"] = "Example Shop Privacy Policy, second edition"
    publish(db, 2, date(2026, 5, 1), later)
    scheduled = minimal_data()
    scheduled["title"] = "Not yet"
    publish(db, 3, date(2026, 7, 1), scheduled)

    page = get_html(client, "/policy")

    assert page.find("h1").text() == "Example Shop Privacy Policy, second edition"


def test_state_rights_table_has_one_yes_or_no_per_right(db: Session, client: TestClient) -> None:
    publish(db, 1, date(2026, 1, 15))
    table = get_html(client, "/policy").find("table", **{"class": "state-rights"})

    assert table.find("caption").text().startswith("Rights of residents of each state")
    columns = [th.text() for th in table.find("thead").find_all("th")]
    assert all(th.attrs["scope"] == "col" for th in table.find("thead").find_all("th"))
    rows = table.find("tbody").find_all("tr")
    assert len(rows) == 1
    state = rows[0].find("th")
    assert state.attrs["scope"] == "row"
    assert state.text() == "California California Consumer Privacy Act"
    cells = dict(zip(columns[1:], [td.text() for td in rows[0].find_all("td")], strict=True))
    assert cells == {
        "Confirm": "Yes",
        "Access": "Yes",
        "Deletion": "Yes",
        "Correction": "Yes",
        "Portability": "Yes",
        "Opt out of targeted advertising": "No",
        "Opt out of sale": "Yes",
        "Opt out of sharing": "Yes",
        "Opt out of profiling": "No",
        "Limit sensitive data": "Yes",
    }


def test_state_exceptions_nevada_and_supplemental_states(db: Session, client: TestClient) -> None:
    data = minimal_data()
    data["rights"]["jurisdictions"].append(
        {
            "state": "IA",
            "law": "Iowa Consumer Data Protection Act",
            "rights": ["confirm", "access", "deletion", "portability", "opt_out_sale"],
            "exceptions": [
                {"right": "correction", "statement": "Iowa law does not grant a right to correct."}
            ],
        }
    )
    data["rights"]["nevada_sale_notice_list"] = True
    data["rights"]["nevada_statement"] = "We do not sell covered information under Nevada law."
    data["rights"]["supplemental_policy_states"] = ["CA", "CO"]
    publish(db, 1, date(2026, 1, 15), data)

    section = get_html(client, "/policy").find("section", id="section-14")

    iowa = section.find("tbody").find_all("tr")[1]
    assert iowa.find("th").text() == "Iowa Iowa Consumer Data Protection Act"
    assert [td.text() for td in iowa.find_all("td")][3] == "No"
    items = [li.text() for li in section.find_all("li")]
    assert (
        "Iowa, correct inaccurate personal information: Iowa law does not grant a right to correct."
    ) in items
    text = section.text()
    assert "We do not sell covered information under Nevada law." in text
    assert "supplemental state privacy policy for residents of California, Colorado." in text


def test_contact_details_link_the_email(db: Session, client: TestClient) -> None:
    publish(db, 1, date(2026, 1, 15))
    contact = get_html(client, "/policy").find("section", id="section-12").find("address")

    assert contact.find("a").attrs["href"] == "mailto:privacy@example.com"
    assert contact.find("a").text() == "privacy@example.com"
    assert "Postal address: Example Shop1 Main St.Springfield, CA 90001" in contact.text()


def test_retention_periods_are_in_words(db: Session, client: TestClient) -> None:
    publish(db, 1, date(2026, 1, 15))
    table = get_html(client, "/policy").find("section", id="section-11").find("table")

    rows = [
        [cell.text() for cell in tr.find_all("th") + tr.find_all("td")]
        for tr in table.find("tbody").find_all("tr")
    ]
    assert rows == [
        [
            "Contact information",
            "3 years",
            "Your last activity with us",
            "Three years after your last order, for returns and support.",
        ],
        [
            "Transaction information",
            "7 years",
            "The date of the transaction",
            "Tax and accounting records.",
        ],
    ]


def test_cookie_table_lists_each_cookie(db: Session, client: TestClient) -> None:
    data = minimal_data()
    data["cookies"]["classes"].append(
        {
            "class": "analytics",
            "description": "Tell us how the site is used.",
            "optional": True,
            "cookies": [
                {
                    "name": "_ga",
                    "provider": "Google",
                    "lifetime": "P2Y",
                    "purpose": "Counts visits.",
                    "first_party": False,
                }
            ],
        }
    )
    publish(db, 1, date(2026, 1, 15), data)
    section = get_html(client, "/policy").find("section", id="section-4")

    rows = [
        [cell.text() for cell in tr.find_all("th") + tr.find_all("td")]
        for table in section.find_all("table")
        for tr in table.find("tbody").find_all("tr")
    ]
    assert rows == [
        [
            "session",
            "Example Shop (first party)",
            "Keeps you signed in.",
            "Until you close your browser (session)",
        ],
        ["_ga", "Google (third party)", "Counts visits.", "2 years"],
    ]
    assert [h3.text() for h3 in section.find_all("h3")] == [
        "Essential cookies",
        "Analytics cookies",
    ]
    assert "Tell us how the site is used. Optional: you can refuse them." in section.text()


def test_manifest_text_is_escaped(db: Session, client: TestClient) -> None:
    data = minimal_data()
    data["sharing"]["statement"] = '<script>alert("x")</script> We do not sell.'
    data["organization"]["name"] = "Shop <b>Bold</b>"
    publish(db, 1, date(2026, 1, 15), data)

    for path in ("/", "/policy", "/policy/versions/1"):
        html = client.get(path).text
        assert "<script" not in html
        assert "<b>Bold" not in html
        assert "Shop &lt;b&gt;Bold&lt;/b&gt;" in html
    policy = client.get("/policy").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; We do not sell." in policy


def test_pages_forbid_scripts_and_external_resources(db: Session, client: TestClient) -> None:
    publish(db, 1, date(2026, 1, 15))
    response = client.get("/policy")

    assert response.headers["content-security-policy"].startswith("default-src 'none';")
    assert response.headers["x-content-type-options"] == "nosniff"


# --- versions ------------------------------------------------------------------------------


def test_version_page_says_which_version_is_in_force(db: Session, client: TestClient) -> None:
    publish(db, 1, date(2026, 1, 1))
    publish(db, 2, date(2026, 5, 1))
    publish(db, 3, date(2026, 7, 15))

    def banner(number: int) -> str:
        return get_html(client, f"/policy/versions/{number}").find("aside").text()

    assert banner(1) == (
        "This is version 1, effective January 1, 2026. "
        "The version in force is version 2, effective May 1, 2026."
    )
    assert banner(2) == "This is version 2, effective May 1, 2026. It is the version in force."
    assert banner(3) == (
        "This is version 3, scheduled to take effect on July 15, 2026. "
        "The version in force is version 2, effective May 1, 2026."
    )
    page = get_html(client, "/policy/versions/1")
    assert page.find("aside").find("a").attrs["href"] == "/policy"
    assert (
        page.find("p", **{"class": "meta"}).text().endswith("Version 1, effective January 1, 2026")
    )
    assert len(page.find_all("section")) == 14


def test_scheduled_first_version_says_none_is_in_force(db: Session, client: TestClient) -> None:
    publish(db, 1, date(2026, 7, 1))

    banner = get_html(client, "/policy/versions/1").find("aside").text()

    assert banner == (
        "This is version 1, scheduled to take effect on July 1, 2026. No version is in force yet."
    )


@pytest.mark.parametrize("number", ["99", "abc", "1.5", "-1", "99999999999", "٣"])
def test_unknown_version_is_an_html_404(db: Session, client: TestClient, number: str) -> None:
    publish(db, 1, date(2026, 1, 15))

    page = get_html(client, f"/policy/versions/{number}", status=404)

    assert page.find("h1").text() == "Policy version not found"
    assert f"There is no version {number} of the privacy policy." in page.text()


def test_unreadable_stored_manifest_is_an_html_error(db: Session, client: TestClient) -> None:
    store(db, 1, date(2026, 1, 15), {"schema_version": 1})

    page = get_html(client, "/policy", status=500)

    assert page.find("h1").text() == "The privacy policy cannot be shown"
    assert "Version 1 of the privacy policy could not be read." in page.text()


# --- home and the empty state --------------------------------------------------------------


def test_home_links_to_the_policy_in_force(db: Session, client: TestClient) -> None:
    publish(db, 1, date(2026, 1, 15))
    page = get_html(client, "/")

    assert page.find("h1").text() == "Example Shop Privacy Center"
    card = page.find("li", **{"class": "card"})
    assert card.find("a").attrs["href"] == "/policy"
    assert card.find("a").text() == "Privacy Policy"
    assert "Version 1, effective January 15, 2026." in card.text()
    assert page.find_all("aside") == []


def test_home_links_only_to_pages_that_exist(db: Session, client: TestClient) -> None:
    publish(db, 1, date(2026, 1, 15))
    page = get_html(client, "/")

    hrefs = {a.attrs["href"] or "" for a in page.find_all("a")}
    internal = {h.split("#")[0] for h in hrefs if h.startswith("/")}
    assert internal == {"/", "/policy", "/requests/new", "/preferences"}
    assert {h for h in hrefs if not h.startswith(("/", "#"))} == {"mailto:privacy@example.com"}
    for path in internal:
        assert client.get(path).status_code == 200


def test_home_announces_a_scheduled_change(db: Session, client: TestClient) -> None:
    publish(db, 1, date(2026, 1, 15))
    publish(db, 2, date(2026, 7, 1))

    for path in ("/", "/policy"):
        notice = get_html(client, path).find("aside")
        assert notice.text() == (
            "Our privacy policy changes on July 1, 2026. Read the new version (version 2)."
        )
        assert notice.find("a").attrs["href"] == "/policy/versions/2"


def test_without_a_published_policy_the_pages_say_so(db: Session, client: TestClient) -> None:
    home = get_html(client, "/")
    policy = get_html(client, "/policy", status=503)

    for page in (home, policy):
        assert page.find("h1").text() == "No privacy policy is published yet"
        assert "publish the policy by running privacyops setup." in page.text()


def test_a_first_version_announced_before_it_takes_effect(db: Session, client: TestClient) -> None:
    publish(db, 1, date(2026, 7, 1))

    page = get_html(client, "/")

    assert page.find("h1").text() == "No privacy policy is published yet"
    assert page.find("aside").find("a").attrs["href"] == "/policy/versions/1"
