"""Where to complain after an appeal is denied: each appeal state's attorney general.

Only offices the research notes name (`shared/reference/us-privacy-rules.md` section 9,
"Regulators") carry a link: New Hampshire's data-privacy enforcement page as given there, the
site of the office for the others (the pages the notes cite are written for businesses). For
every other state the notice gives a generic instruction rather than an address nobody checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from privacyops.policy.states import state_name

_NOTES = "research notes section 9, Regulators"


@dataclass(frozen=True)
class Complaint:
    office: str
    url: str | None
    source: str | None

    def instruction(self) -> str:
        where = f" at {self.url}" if self.url else ""
        return f"You may contact the {self.office}{where} to submit a complaint."


AG_PAGES: dict[str, Complaint] = {
    "DE": Complaint(
        "Delaware Department of Justice",
        "https://attorneygeneral.delaware.gov/",
        _NOTES,
    ),
    "MN": Complaint(
        "Minnesota Attorney General",
        "https://www.ag.state.mn.us/",
        _NOTES,
    ),
    "NH": Complaint(
        "New Hampshire Department of Justice",
        "https://www.doj.nh.gov/data-privacy-enforcement",
        _NOTES,
    ),
    "OR": Complaint(
        "Oregon Department of Justice",
        "https://www.doj.state.or.us/",
        _NOTES,
    ),
}


def complaint_for(state: str) -> Complaint:
    found = AG_PAGES.get(state)
    if found is not None:
        return found
    return Complaint(f"Attorney General of {state_name(state)}", None, None)
