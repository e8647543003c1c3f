"""The GPP string for one browser's or person's choices on our platform.

Field values (MSPA, reference notes §4.3): opt-outs 1 = opted out, 2 = did not opt out,
0 = not applicable (the business does not sell / share / target); notices 1 = given,
2 = not given, 0 = not applicable; MspaCoveredTransaction 1 yes, 2 no.
"""

from __future__ import annotations

from dataclasses import dataclass

from privacyops.consent.gpp.codec import encode
from privacyops.consent.gpp.registry import STATE_SECTIONS, USNAT, SectionSpec

OPTED_OUT = 1
DID_NOT_OPT_OUT = 2
NOT_APPLICABLE = 0


def opt_out_value(choice: bool | None) -> int:
    """True (opted out) -> 1, False (did not opt out) -> 2, None (not applicable) -> 0."""
    if choice is None:
        return NOT_APPLICABLE
    return OPTED_OUT if choice else DID_NOT_OPT_OUT


def notice_value(given: bool, choice: bool | None) -> int:
    """A notice of an opt-out is N/A where the opt-out is, else 1 given / 2 not given."""
    if choice is None:
        return NOT_APPLICABLE
    return 1 if given else 2


def _either(first: bool | None, second: bool | None) -> bool | None:
    """Opted out if either choice is an opt-out; not applicable only if both are."""
    if first is None and second is None:
        return None
    return bool(first) or bool(second)


def usnat_for_choices(
    sale_opt_out: bool | None,
    sharing_opt_out: bool | None,
    targeted_opt_out: bool | None,
    gpc: bool,
    *,
    state: str | None = None,
    notices_given: bool = True,
    mspa_covered_transaction: bool = False,
) -> str:
    """A GPP string with usnat v2 and, when `state` has one, that state's section.

    Privacy decisions made here:
    - GPC turns "did not opt out" into "opted out" for sale, sharing and targeted advertising
      (CCPA §7025 and the UOOM states: the signal wins over a business setting). It does not
      turn "not applicable" into an opt-out: where the business does not sell, N/A stays true.
    - State sections have fewer fields than usnat. California's SharingOptOut (sharing is
      cross-context behavioural advertising under the CCPA) and the other states'
      TargetedAdvertisingOptOut each carry an opt-out of either sharing or targeted
      advertising: the narrower section must not lose an opt-out the person made.
    - Notices: `notices_given` says whether the person was shown the opt-out notices (our banner
      and preferences page show them); each is N/A where its opt-out is.
    - Sensitive data and children's consents are not collected through this path: N/A (0).
    - Not an MSPA covered transaction unless said (we are not a signatory by default); the
      MSPA modes are then N/A. The CMP id is not part of the string.
    Nevada, and any state without a GPP section, gets usnat alone.
    """
    choices = _Choices(sale_opt_out, sharing_opt_out, targeted_opt_out, notices_given)
    if gpc:
        choices = choices.with_gpc()
    mspa = _mspa(mspa_covered_transaction)
    sections: dict[str, object] = {"usnat": _usnat_fields(choices, gpc, mspa)}
    spec = STATE_SECTIONS.get((state or "").upper())
    if spec is not None:
        sections[spec.prefix] = _state_fields(spec, choices, gpc, mspa)
    return encode(sections)


@dataclass(frozen=True, slots=True)
class _Choices:
    sale: bool | None
    sharing: bool | None
    targeted: bool | None
    given: bool

    def with_gpc(self) -> _Choices:
        """GPC opts out of whatever applies; N/A stays N/A."""
        return _Choices(
            sale=None if self.sale is None else True,
            sharing=None if self.sharing is None else True,
            targeted=None if self.targeted is None else True,
            given=self.given,
        )


def _mspa(covered: bool) -> dict[str, int]:
    if covered:
        # Covered, with the opt-out option mode (we offer opt-outs, not service-provider mode).
        return {
            "MspaCoveredTransaction": 1,
            "MspaOptOutOptionMode": 1,
            "MspaServiceProviderMode": 2,
        }
    return {"MspaCoveredTransaction": 2, "MspaOptOutOptionMode": 0, "MspaServiceProviderMode": 0}


def _usnat_fields(choices: _Choices, gpc: bool, mspa: dict[str, int]) -> dict[str, object]:
    given = choices.given
    return {
        "Version": USNAT.current_version,
        "SharingNotice": notice_value(given, choices.sharing),
        "SaleOptOutNotice": notice_value(given, choices.sale),
        "SharingOptOutNotice": notice_value(given, choices.sharing),
        "TargetedAdvertisingOptOutNotice": notice_value(given, choices.targeted),
        "SaleOptOut": opt_out_value(choices.sale),
        "SharingOptOut": opt_out_value(choices.sharing),
        "TargetedAdvertisingOptOut": opt_out_value(choices.targeted),
        **mspa,
        "Gpc": gpc,
    }


def _state_fields(
    spec: SectionSpec, choices: _Choices, gpc: bool, mspa: dict[str, int]
) -> dict[str, object]:
    """The usnat choices in a state section's own fields (those it has)."""
    given = choices.given
    sharing = _either(choices.sharing, choices.targeted)  # California's "sharing"
    targeted = _either(choices.targeted, choices.sharing)
    candidates: dict[str, object] = {
        "SharingNotice": notice_value(given, choices.sharing),
        # The privacy notice itself applies to every processing.
        "ProcessingNotice": 1 if given else 2,
        "SaleOptOutNotice": notice_value(given, choices.sale),
        "SharingOptOutNotice": notice_value(given, sharing),
        "TargetedAdvertisingOptOutNotice": notice_value(given, targeted),
        "SaleOptOut": opt_out_value(choices.sale),
        "SharingOptOut": opt_out_value(sharing),
        "TargetedAdvertisingOptOut": opt_out_value(targeted),
        **mspa,
        "Gpc": gpc,
    }
    names = set(spec.field_names(spec.current_version))
    fields = {name: value for name, value in candidates.items() if name in names}
    if "MspaMode" in names:
        # Indiana's layout has one MSPA mode field: 1 opt-out option mode, 2 service provider.
        fields["MspaMode"] = mspa["MspaOptOutOptionMode"]
    return fields
