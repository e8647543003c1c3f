"""The published example policy, as a visitor reads it: every item the reference text names.

Publishes `examples/miniso-usa/policy.yaml` through the real publishing service, renders
`/policy`, and checks each item of `reference_text.py` against the page text.
"""

from __future__ import annotations

import html
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privacyops.policy import pages, service
from privacyops.policy.loader import load_manifest_file
from tests.conftest import EXAMPLE_POLICY
from tests.htmltree import Node, parse
from tests.policy import reference_text as ref

TODAY = date(2026, 11, 27)
RIGHT_COLUMNS = {
    "confirm": "Confirm",
    "access": "Access",
    "deletion": "Deletion",
    "correction": "Correction",
    "portability": "Portability",
    "opt_out_targeted_advertising": "Opt out of targeted advertising",
    "opt_out_sale": "Opt out of sale",
    "opt_out_sharing": "Opt out of sharing",
    "opt_out_profiling": "Opt out of profiling",
    "limit_sensitive": "Limit sensitive data",
}


@pytest.fixture
def page(db: Session, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Node:
    monkeypatch.setattr(pages, "_today", lambda: TODAY)
    loaded = load_manifest_file(EXAMPLE_POLICY)
    service.publish(db, loaded, ref.LAST_UPDATED, TODAY, "test")
    response = client.get("/policy")
    assert response.status_code == 200
    return parse(response.text)


def plain(node: Node) -> str:
    return html.unescape(node.text()).casefold()


def _phrases() -> list[tuple[str, int, str]]:
    """(item, section number where it belongs, phrase) for every item the reference names."""
    return [
        *((f"category:{i.key}", 1, i.phrase) for i in ref.CATEGORIES),
        *((f"approach:{i.key}", 1, i.phrase) for i in ref.COLLECTION_APPROACHES),
        ("special-categories", 1, ref.SPECIAL_CATEGORIES.phrase),
        ("special-categories-purpose", 1, ref.SPECIAL_CATEGORIES_PURPOSE.phrase),
        *((f"source:{i.key}", 2, i.phrase) for i in ref.SOURCES),
        *((f"purpose:{p.key}", 3, p.phrase) for p in ref.PURPOSES),
        ("new-purposes", 3, ref.NEW_PURPOSES.phrase),
        *((f"recipient:{r.key}", r.section, r.phrase) for r in ref.RECIPIENT_CLASSES),
        *((f"standard:{s}", 7, s) for s in ref.SECURITY_STANDARDS),
        *((f"right:{i.key}", 8, i.phrase) for i in ref.EVERYONE_RIGHTS),
        ("children", 10, ref.CHILDREN_PHRASE),
        ("email", 12, ref.CONTACT_EMAIL),
        *((f"address:{n}", 12, line) for n, line in enumerate(ref.CONTACT_ADDRESS_LINES)),
        *((f"state-right:{i.key}", 14, i.phrase) for i in ref.STATE_RIGHTS),
        *((f"exception:{e.state}:{e.right}", 14, e.phrase) for e in ref.EXCEPTIONS),
        *((f"state:{s.code}", 14, s.name) for s in (*ref.STATES, ref.NEVADA)),
        ("nevada", 14, ref.NEVADA_PHRASE),
    ]


def test_the_page_shows_every_item_of_the_reference_text_in_its_section(page: Node) -> None:
    sections = {n: plain(page.find("section", id=f"section-{n}")) for n in range(1, 15)}
    missing = [
        f"{item}: {phrase!r} not in section {number}"
        for item, number, phrase in _phrases()
        if phrase.casefold() not in sections[number]
    ]
    assert missing == []


def test_the_page_has_the_fourteen_sections_of_the_reference_text(page: Node) -> None:
    headings = [plain(h) for h in page.find_all("h2")]
    for section in ref.SECTIONS:
        expected = f"{section.number}. {section.title}".casefold()
        assert expected in headings, expected


def test_the_state_table_shows_each_states_rights_and_exceptions(page: Node) -> None:
    table = page.find("table", **{"class": "state-rights"})
    columns = [th.text() for th in table.find("thead").find_all("th")][1:]
    rows = {r.find("th").text(): r for r in table.find("tbody").find_all("tr")}
    wrong = []
    for state in (*ref.STATES, ref.NEVADA):
        row = next(r for name, r in rows.items() if name.startswith(state.name))
        cells = dict(zip(columns, (td.text() for td in row.find_all("td")), strict=True))
        for right, column in RIGHT_COLUMNS.items():
            expected = "No" if right in state.exceptions or right not in state.rights else "Yes"
            if cells[column] != expected:
                wrong.append(f"{state.code} {right}: {cells[column]}, expected {expected}")
    assert len(rows) == len(ref.STATES) + 1
    assert wrong == []


def test_the_page_links_the_contact_email(page: Node) -> None:
    links = [a.attrs.get("href") for a in page.find_all("a")]
    assert f"mailto:{ref.CONTACT_EMAIL}" in links
