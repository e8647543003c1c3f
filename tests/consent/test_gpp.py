"""The GPP codec: the reference vectors (reference notes §4.7), round trips of every section we
implement, field validation, and bad strings that must give a GppError and nothing else."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacyops.consent.gpp import (
    PREFIXES,
    SPECS,
    STATE_SECTIONS,
    GppError,
    GppString,
    Section,
    decode,
    decode_header,
    encode,
    encode_header,
    usnat_for_choices,
)
from privacyops.consent.gpp.bits import BitReader, fibonacci_code, to_bits
from privacyops.consent.gpp.fields import BoolField, IntField, IntListField
from privacyops.consent.gpp.registry import SectionSpec
from privacyops.consent.gpp.samples import random_fields
from privacyops.errors import InvalidInput

# --- sample values, shared with test_gpp_node.py -------------------------------------------


def expected_fields(spec: SectionSpec, version: int, given: dict[str, Any]) -> dict[str, Any]:
    """What decoding the encoding of `given` yields: defaults for fields not given, and the
    library's defaults for the fields of an optional segment left out."""
    expected: dict[str, Any] = {}
    for segment in spec.layouts[version]:
        included = given.get(segment.included, True) if segment.included else True
        for field in segment.fields:
            value = given.get(field.name) if included else None
            expected[field.name] = field.default_value() if value is None else value
        if segment.included:
            expected[segment.included] = included
    return expected


def all_layouts() -> list[tuple[SectionSpec, int]]:
    return [(spec, version) for spec in SPECS.values() for version in spec.layouts]


def layout_id(param: Any) -> str:
    return f"{param[0].prefix}-v{param[1]}" if isinstance(param, tuple) else str(param)


# --- 4.7 vectors -------------------------------------------------------------------------

HEADERS = [
    # spec form, library form, ids
    ("DBABM", "DBABMA", [2]),
    ("DBACNY", "DBACNYA", [2, 6]),
    ("DBABjw", "DBABjw", [5, 6]),
    ("DBABLA", "DBABLA", [7]),
]


@pytest.mark.parametrize(("spec_form", "library_form", "ids"), HEADERS)
def test_header_vectors_decode_in_both_paddings_and_encode_in_the_library_form(
    spec_form: str, library_form: str, ids: list[int]
) -> None:
    assert decode_header(spec_form) == ids
    assert decode_header(library_form) == ids
    assert encode_header(ids) == library_form


def test_spec_example_2_keeps_tcf_and_usp_sections_unchanged() -> None:
    text = "DBACNYA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN"
    gpp = decode(text)
    assert gpp.section_ids == [2, 6]
    assert gpp.header == {"Id": 3, "Version": 1, "SectionIds": [2, 6]}
    assert gpp["tcfeuv2"].opaque
    assert gpp["tcfeuv2"].text == "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"
    assert gpp["uspv1"].text == "1YNN"
    assert encode(gpp) == text


def test_spec_example_2_with_the_spec_padding_reencodes_in_the_library_form() -> None:
    text = "DBACNY~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN"
    assert encode(decode(text)) == text.replace("DBACNY~", "DBACNYA~")


USNAT_ALL_OPTED_OUT = {
    "Version": 2,
    "SharingNotice": 1,
    "SaleOptOutNotice": 1,
    "SharingOptOutNotice": 1,
    "TargetedAdvertisingOptOutNotice": 1,
    "SensitiveDataProcessingOptOutNotice": 1,
    "SensitiveDataLimitUseNotice": 1,
    "SaleOptOut": 1,
    "SharingOptOut": 1,
    "TargetedAdvertisingOptOut": 1,
    "SensitiveDataProcessing": [2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2],
    "KnownChildSensitiveDataConsents": [2, 1, 0],
    "PersonalDataConsents": 1,
    "MspaCoveredTransaction": 1,
    "MspaOptOutOptionMode": 1,
    "MspaServiceProviderMode": 2,
    "GpcSegmentType": 1,
    "Gpc": True,
    "GpcSegmentIncluded": True,
}


def test_usnat_v2_vector_from_the_library_tests() -> None:
    text = "DBABLA~CVVVkkkkkpFY.YA"
    gpp = decode(text, strict=True)
    assert gpp.section_ids == [7]
    assert gpp["usnat"].fields == USNAT_ALL_OPTED_OUT
    assert encode(gpp) == text
    assert encode({"usnat": USNAT_ALL_OPTED_OUT}) == text


def test_usnat_library_default() -> None:
    fields = decode("DBABLA~CAAAAAAAAABA.QA")["usnat"].fields
    assert fields["Version"] == 2
    assert fields["MspaCoveredTransaction"] == 1
    assert fields["Gpc"] is False
    assert fields["SensitiveDataProcessing"] == [0] * 16
    others = {k: v for k, v in fields.items() if isinstance(v, int) and not isinstance(v, bool)}
    assert {k for k, v in others.items() if v} == {
        "Version",
        "MspaCoveredTransaction",
        "GpcSegmentType",
    }
    assert encode({"usnat": {}}) == "DBABLA~CAAAAAAAAABA.QA"


def test_usnat_v1_vector() -> None:
    text = "DBABLA~BAAAVVVVUQA.QA"
    fields = decode(text, strict=True)["usnat"].fields
    assert fields["Version"] == 1
    assert fields["SensitiveDataProcessing"] == [1] * 12
    assert fields["KnownChildSensitiveDataConsents"] == [1, 1]
    assert fields["MspaCoveredTransaction"] == 1
    assert fields["Gpc"] is False
    assert encode(decode(text)) == text
    assert (
        encode(
            {
                "usnat": {
                    "Version": 1,
                    "SensitiveDataProcessing": [1] * 12,
                    "KnownChildSensitiveDataConsents": [1, 1],
                }
            }
        )
        == text
    )


def test_usnat_v2_sensitive_data_vector() -> None:
    text = "DBABLA~CAAAVVVVVVRA.QA"
    fields = decode(text)["usnat"].fields
    assert fields["SensitiveDataProcessing"] == [1] * 16
    assert fields["KnownChildSensitiveDataConsents"] == [1, 1, 1]
    assert encode(decode(text)) == text


def test_usca_vector_from_the_library_tests() -> None:
    # The section is the library's vector; its header [8] was computed, not published.
    text = "DBABBg~BVWSSSVY.YA"
    assert encode_header([8]) == "DBABBg"
    fields = decode(text, strict=True)["usca"].fields
    assert fields == {
        "Version": 1,
        "SaleOptOutNotice": 1,
        "SharingOptOutNotice": 1,
        "SensitiveDataLimitUseNotice": 1,
        "SaleOptOut": 1,
        "SharingOptOut": 1,
        "SensitiveDataProcessing": [2, 1, 0, 2, 1, 0, 2, 1, 0],
        "KnownChildSensitiveDataConsents": [2, 1],
        "PersonalDataConsents": 1,
        "MspaCoveredTransaction": 1,
        "MspaOptOutOptionMode": 1,
        "MspaServiceProviderMode": 2,
        "GpcSegmentType": 1,
        "Gpc": True,
        "GpcSegmentIncluded": True,
    }
    assert encode({"usca": fields}) == text


# --- bits ----------------------------------------------------------------------------------

FIBONACCI = {1: "11", 2: "011", 3: "0011", 4: "1011", 5: "00011", 6: "10011", 7: "01011"}


@pytest.mark.parametrize(("value", "code"), FIBONACCI.items())
def test_fibonacci_examples_of_the_spec(value: int, code: str) -> None:
    assert fibonacci_code(value) == code
    assert BitReader(code).read_fibonacci() == value


def test_fibonacci_codes_read_back_and_never_hold_11_before_the_end() -> None:
    for value in range(1, 2000):
        code = fibonacci_code(value)
        assert code.endswith("11")
        assert "11" not in code[:-1]
        assert BitReader(code + "0101").read_fibonacci() == value


def test_rfc4648_characters_are_read_like_the_url_safe_ones() -> None:
    assert encode_header([1, 2]) == "DBAB-A"
    assert decode_header("DBAB+A") == [1, 2]
    assert to_bits("+/") == to_bits("-_") == "111110111111"


def test_booleans_are_one_for_true_despite_the_spec_table() -> None:
    # GPC segment: type 01, then Gpc; "YA" = 011000 000000 is Gpc true.
    assert decode("DBABLA~CAAAAAAAAABA.YA")["usnat"]["Gpc"] is True
    assert decode("DBABLA~CAAAAAAAAABA.QA")["usnat"]["Gpc"] is False


# --- round trips -------------------------------------------------------------------------


def test_every_state_the_policy_names_has_a_section_except_nevada() -> None:
    named = {"CA", "CO", "CT", "DE", "FL", "IN", "IA", "MT", "OR", "TN", "TX", "UT", "VA", "NV"}
    assert set(STATE_SECTIONS) == named - {"NV"}
    for state, spec in STATE_SECTIONS.items():
        assert PREFIXES[spec.id] == spec.prefix == f"us{state.lower()}"


@pytest.mark.parametrize("layout", all_layouts(), ids=layout_id)
def test_defaults_round_trip(layout: tuple[SectionSpec, int]) -> None:
    spec, version = layout
    text = encode({spec.prefix: {spec.version_field: version}})
    assert decode(text, strict=True)[spec.prefix].fields == expected_fields(spec, version, {})


@pytest.mark.parametrize("layout", all_layouts(), ids=layout_id)
def test_random_values_round_trip(layout: tuple[SectionSpec, int]) -> None:
    spec, version = layout
    rng = random.Random(f"{spec.prefix}{version}")
    for _ in range(200):
        given = random_fields(spec, version, rng)
        text = encode({spec.prefix: given})
        gpp = decode(text, strict=True)
        assert gpp[spec.prefix].fields == expected_fields(spec, version, given)
        assert encode(gpp) == text


def test_usnat_v1_and_v2_lengths_match_the_library() -> None:
    # v1: 60 bits padded to 66 (11 characters); v2: 70 bits padded to 72 (12 characters).
    assert len(encode({"usnat": {"Version": 1}}).split("~")[1].split(".")[0]) == 11
    assert len(encode({"usnat": {"Version": 2}}).split("~")[1].split(".")[0]) == 12


def test_optional_segments_can_be_left_out() -> None:
    without_gpc = encode({"usnat": {"GpcSegmentIncluded": False, "SaleOptOut": 1}})
    assert "." not in without_gpc
    fields = decode(without_gpc)["usnat"].fields
    assert fields["GpcSegmentIncluded"] is False
    assert fields["Gpc"] is False
    without_sensitive = encode({"usin": {"SensitiveDataConsentSegmentIncluded": False}})
    assert decode(without_sensitive)["usin"]["SensitiveDataConsentSegmentIncluded"] is False


def test_several_sections_come_out_in_id_order_with_a_grouped_header() -> None:
    text = encode({"usva": {}, "usnat": {}, "uspv1": "1YNN", "usca": {}})
    gpp = decode(text)
    assert gpp.section_ids == [6, 7, 8, 9]
    assert text.startswith(encode_header([6, 7, 8, 9]) + "~1YNN~")
    assert decode_header(text.split("~")[0]) == [6, 7, 8, 9]


def test_sections_we_do_not_decode_pass_through_unchanged() -> None:
    usne = "BVVVVVVVVVVV.YA"  # Nebraska: registered, not one of the policy's states
    text = encode({"tcfeuv2": "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", "usne": usne})
    gpp = decode(text)
    assert gpp["usne"].opaque
    assert gpp["usne"].text == usne
    assert encode(gpp) == text
    unregistered = encode({"usnat": {}, "section30": "AbC.dE"})
    assert decode(unregistered).section_ids == [7, 30]
    assert decode(unregistered)["section30"].text == "AbC.dE"
    assert encode(decode(unregistered)) == unregistered


def test_a_decoded_string_edited_then_encoded() -> None:
    gpp = decode("DBABLA~CAAAAAAAAABA.QA")
    gpp["usnat"].fields["SaleOptOut"] = 1
    gpp["usnat"].fields["Gpc"] = True
    again = decode(encode(gpp))["usnat"]
    assert (again["SaleOptOut"], again["Gpc"]) == (1, True)


def test_section_text_given_for_an_implemented_section_is_checked() -> None:
    assert encode({"usnat": "CVVVkkkkkpFY.YA"}) == "DBABLA~CVVVkkkkkpFY.YA"
    with pytest.raises(GppError, match=r"usnat\.MspaCoveredTransaction: 0 is out of range 1\.\.2"):
        encode({"usnat": "CAAAAAAAAAAA.QA"})


def test_gpp_string_object_api() -> None:
    gpp = GppString()
    gpp.sections["usnat"] = Section(7, "usnat", fields={"SaleOptOut": 2})
    assert "usnat" in gpp
    assert decode(encode(gpp))["usnat"]["SaleOptOut"] == 2
    assert decode("DBABLA~CAAAAAAAAABA.QA").to_dict()["usnat"]["MspaCoveredTransaction"] == 1


# --- field validation ----------------------------------------------------------------------

BAD_FIELDS = [
    ({"usnat": {"SaleOptOut": 3}}, r"usnat\.SaleOptOut: 3 is out of range 0\.\.2"),
    ({"usnat": {"SaleOptOut": -1}}, r"usnat\.SaleOptOut: -1 is out of range 0\.\.2"),
    ({"usnat": {"SaleOptOut": True}}, r"usnat\.SaleOptOut: expected an integer, got bool"),
    ({"usnat": {"SaleOptOut": "1"}}, r"usnat\.SaleOptOut: expected an integer, got str"),
    ({"usnat": {"MspaCoveredTransaction": 0}}, r"usnat\.MspaCoveredTransaction: 0 is out of"),
    ({"usnat": {"Gpc": 1}}, r"usnat\.Gpc: expected true or false, got int"),
    ({"usnat": {"GpcSegmentType": 2}}, r"usnat\.GpcSegmentType: 2 is out of range 1\.\.1"),
    ({"usnat": {"GpcSegmentIncluded": "yes"}}, r"usnat\.GpcSegmentIncluded: expected true"),
    ({"usnat": {"SensitiveDataProcessing": [0] * 12}}, r"SensitiveDataProcessing: expected 16"),
    (
        {"usnat": {"Version": 1, "SensitiveDataProcessing": [0] * 16}},
        r"usnat\.SensitiveDataProcessing: expected 12 values, got 16",
    ),
    ({"usnat": {"SensitiveDataProcessing": 5}}, r"SensitiveDataProcessing: expected a list"),
    (
        {"usca": {"SensitiveDataProcessing": [0, 0, 0, 0, 3, 0, 0, 0, 0]}},
        r"usca\.SensitiveDataProcessing\[4\]: 3 is not an integer in range 0\.\.2",
    ),
    ({"usnat": {"Version": 3}}, r"usnat\.Version: 3 is not a supported version \(known: 1, 2\)"),
    ({"usca": {"Version": 2}}, r"usca\.Version: 2 is not a supported version"),
    ({"usin": {"MspaVersion": "1"}}, r"usin\.MspaVersion: '1' is not a supported version"),
    ({"usnat": {"SaleOptout": 1}}, r"usnat\.SaleOptout: is not a field of usnat v2"),
    ({"usva": {"Gpc": True}}, r"usva\.Gpc: is not a field of usva v1"),
    ({"usca": {"TargetedAdvertisingOptOut": 1}}, r"usca\.TargetedAdvertisingOptOut: is not a"),
    ({"usnv": {}}, r"usnv: is not a known section prefix"),
    ({"usne": {"Version": 1}}, r"usne: is kept as text only"),
    ({"uspv1": "1Y N"}, r"uspv1: character ' ' at position 2 is not allowed"),
    ({"uspv1": ""}, r"uspv1: section text is empty"),
    ({"usnat": 7}, r"usnat: expected a mapping of fields or the section's text"),
    ({}, r"string: has no sections"),
]


@pytest.mark.parametrize(("sections", "message"), BAD_FIELDS)
def test_bad_field_values_name_section_and_field(sections: dict[str, Any], message: str) -> None:
    with pytest.raises(GppError, match=message) as raised:
        encode(sections)
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, InvalidInput)
    assert raised.value.problems[0].field == raised.value.where


def test_section_id_and_prefix_must_agree() -> None:
    gpp = GppString({"usnat": Section(8, "usnat")})
    with pytest.raises(GppError, match="usnat: is not the prefix of section id 8"):
        encode(gpp)


def test_encode_header_refuses_duplicates_and_non_ids() -> None:
    with pytest.raises(GppError, match="appears twice"):
        encode_header([7, 7])
    with pytest.raises(GppError, match="integers from 1"):
        encode_header([0])


# --- bad strings ---------------------------------------------------------------------------

BAD_STRINGS = [
    ("", r"string: is empty"),
    ("CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", r"header: type is 2.*TCF v2 string"),
    ("DCABLA~CAAAAAAAAABA.QA", r"header: version 2 is not supported"),
    ("DB!BLA~CAAAAAAAAABA.QA", r"header: character '!' at position 2 is not base64url"),
    ("DBABLA", r"header: lists more sections than the 0 that follow it"),
    ("DBACNYA~1YNN", r"header: lists more sections than the 1 that follow it"),
    ("DBABLA~CAAAAAAAAABA.QA~1YNN", r"header: lists 1 sections but the string has 2"),
    ("DBA", r"header: ends after 18 bits, inside the section ids"),
    ("DBABLA~", r"usnat: section 7 is blank \(character 7\)"),
    ("DBABLA~CAAAAAAAA*BA.QA", r"usnat core segment: character '\*' at position 16"),
    (
        "DBABLA~CAAAAAAA",
        r"usnat core segment: ends after 48 bits, before field "
        r"SensitiveDataProcessing",
    ),
    ("DBABLA~CAAAAAAAAABA.", r"usnat gpc segment: is empty \(character 20\)"),
    (
        "DBABBg~BVWSSS",
        r"usca core segment: ends after 36 bits, before field "
        r"KnownChildSensitiveDataConsents",
    ),
    ("DBABLA~CAAAAAAAAABA.QA.QA", r"usnat: has 3 segments, at most 2 are defined"),
    ("DBABLA~DAAAAAAAAABA.QA", r"usnat\.Version: version 3 is not supported \(known: 1, 2\)"),
    ("DBABLA~.QA", r"usnat core segment: is empty \(character 7\)"),
    ("DBABLA~%AAA", r"usnat core segment: character '%' at position 7"),
    ("DBABBg~CVWSSSVY.YA", r"usca\.Version: version 2 is not supported \(known: 1\)"),
    ("DBACNYA~CPXx RfA~1YNN", r"tcfeuv2: character ' ' at position 12 is not allowed"),
]


@pytest.mark.parametrize(("text", "message"), BAD_STRINGS)
def test_bad_strings_say_what_and_where(text: str, message: str) -> None:
    with pytest.raises(GppError, match=message):
        decode(text)


def test_a_non_string_is_a_gpp_error() -> None:
    with pytest.raises(GppError, match="expected a str, got bytes"):
        decode(b"DBABLA~CAAAAAAAAABA.QA")  # type: ignore[arg-type]


def test_a_forged_header_group_fails_fast() -> None:
    # One group from 1 to 1,000,001: must not expand into a million ids.
    from privacyops.consent.gpp.bits import BitWriter, from_bits

    writer = BitWriter()
    writer.write_int(3, 6)
    writer.write_int(1, 6)
    writer.write_int(1, 12)
    writer.write_bool(True)
    writer.write_fibonacci(1)
    writer.write_fibonacci(10**6)
    header = from_bits(writer.bits())
    with pytest.raises(GppError, match="lists more sections than the 1 that follow it"):
        decode(header + "~1YNN")
    with pytest.raises(GppError, match="lists more than 4096 section ids"):
        decode_header(header)


def test_a_forged_long_fibonacci_code_is_refused() -> None:
    # "V" is 010101: no "11" for 60 bits, then "8" (111100) closes a 62-bit code.
    with pytest.raises(GppError, match=r"header: the section id at bit 25 is too large"):
        decode("DBABV" + "V" * 10 + "8~1YNN")
    with pytest.raises(GppError, match=r"header: ends after \d+ bits, inside the section ids"):
        decode("DBAB" + "V" * 1000 + "~1YNN")


def test_out_of_range_values_decode_as_written_but_not_in_strict_mode() -> None:
    # MspaCoveredTransaction = 0 is not allowed; the library reads it anyway, and so do we.
    text = "DBABLA~CAAAAAAAAAAA.QA"
    assert decode(text)["usnat"]["MspaCoveredTransaction"] == 0
    with pytest.raises(GppError, match=r"usnat\.MspaCoveredTransaction: 0 is out of range"):
        decode(text, strict=True)
    with pytest.raises(GppError, match=r"usnat\.MspaCoveredTransaction"):
        encode(decode(text))


def test_trailing_bits_are_ignored_like_the_library() -> None:
    assert decode("DBABLA~CAAAAAAAAABAAAAA.QAAA")["usnat"]["MspaCoveredTransaction"] == 1


GPP_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~."


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_random_text_gives_gpp_error_or_a_string(text: str) -> None:
    _decode_or_gpp_error(text)


@settings(max_examples=600, deadline=None)
@given(
    st.sampled_from(["", "DBABLA~", "DBABjw~", "DBACNYA~", "DBABBg~", "DBADLO8~", "D"]),
    st.text(alphabet=GPP_ALPHABET, max_size=60),
)
def test_random_base64url_strings_give_gpp_error_or_a_string(head: str, tail: str) -> None:
    _decode_or_gpp_error(head + tail)


def _decode_or_gpp_error(text: str) -> None:
    try:
        gpp = decode(text)
    except GppError as error:
        problem = str(error)
        assert problem.split(":")[0], problem
        return
    # Whatever decodes is a list of sections that encodes again (or says why not).
    try:
        again = decode(encode(gpp))
    except GppError:
        return
    assert again.section_ids == gpp.section_ids


@st.composite
def valid_sections(draw: st.DrawFn) -> tuple[SectionSpec, dict[str, Any]]:
    spec, version = draw(st.sampled_from(all_layouts()))
    values: dict[str, Any] = {}
    for segment in spec.layouts[version]:
        for field in segment.fields:
            if draw(st.booleans()):  # leave some out: they take their defaults
                continue
            if isinstance(field, IntField):
                values[field.name] = draw(st.sampled_from(field.allowed))
            elif isinstance(field, IntListField):
                item = st.sampled_from(field.allowed)
                values[field.name] = draw(
                    st.lists(item, min_size=field.count, max_size=field.count)
                )
            else:
                assert isinstance(field, BoolField)
                values[field.name] = draw(st.booleans())
        if segment.included and draw(st.booleans()):
            values[segment.included] = draw(st.booleans())
    values[spec.version_field] = version
    return spec, values


@settings(max_examples=300, deadline=None)
@given(st.lists(valid_sections(), min_size=1, max_size=4, unique_by=lambda s: s[0].prefix))
def test_random_valid_field_values_round_trip(
    sections: list[tuple[SectionSpec, dict[str, Any]]],
) -> None:
    text = encode({spec.prefix: values for spec, values in sections})
    gpp = decode(text, strict=True)
    assert gpp.section_ids == sorted(spec.id for spec, _ in sections)
    for spec, values in sections:
        version = values[spec.version_field]
        assert gpp[spec.prefix].fields == expected_fields(spec, version, values)
    assert encode(gpp) == text


# --- the platform's helper -----------------------------------------------------------------


def test_choices_map_to_opted_out_did_not_and_not_applicable() -> None:
    usnat = decode(usnat_for_choices(True, False, None, gpc=False))["usnat"].fields
    assert (usnat["SaleOptOut"], usnat["SharingOptOut"], usnat["TargetedAdvertisingOptOut"]) == (
        1,
        2,
        0,
    )
    # Notices are given where the choice applies, N/A where it does not.
    assert (usnat["SaleOptOutNotice"], usnat["SharingOptOutNotice"]) == (1, 1)
    assert usnat["TargetedAdvertisingOptOutNotice"] == 0
    assert usnat["Version"] == 2
    assert usnat["Gpc"] is False
    assert usnat["MspaCoveredTransaction"] == 2
    assert usnat["SensitiveDataProcessing"] == [0] * 16


def test_gpc_opts_out_of_what_applies_and_is_flagged() -> None:
    usnat = decode(usnat_for_choices(False, False, None, gpc=True))["usnat"].fields
    assert (usnat["SaleOptOut"], usnat["SharingOptOut"], usnat["TargetedAdvertisingOptOut"]) == (
        1,
        1,
        0,
    )
    assert usnat["Gpc"] is True


def test_notices_not_given() -> None:
    usnat = decode(usnat_for_choices(False, None, None, gpc=False, notices_given=False))["usnat"]
    assert usnat["SaleOptOutNotice"] == 2


@pytest.mark.parametrize("state", sorted(STATE_SECTIONS))
def test_state_sections_carry_the_same_choices(state: str) -> None:
    text = usnat_for_choices(True, None, True, gpc=True, state=state.lower())
    gpp = decode(text, strict=True)
    spec = STATE_SECTIONS[state]
    assert gpp.section_ids == [7, spec.id]
    fields = gpp[spec.prefix].fields
    assert fields["SaleOptOut"] == 1
    opt_out = "SharingOptOut" if state == "CA" else "TargetedAdvertisingOptOut"
    assert fields[opt_out] == 1
    if "Gpc" in fields:
        assert fields["Gpc"] is True


def test_california_sharing_carries_a_targeted_advertising_opt_out() -> None:
    usca = decode(usnat_for_choices(False, False, True, gpc=False, state="CA"))["usca"]
    assert usca["SharingOptOut"] == 1
    assert usca["SaleOptOut"] == 2


def test_nevada_and_unknown_states_get_usnat_alone() -> None:
    for state in ("NV", "WA", None):
        assert decode(usnat_for_choices(True, True, True, gpc=False, state=state)).section_ids == [
            7
        ]


def test_mspa_covered_transaction() -> None:
    text = usnat_for_choices(True, True, True, gpc=False, state="IN", mspa_covered_transaction=True)
    gpp = decode(text, strict=True)
    assert gpp["usnat"]["MspaCoveredTransaction"] == 1
    assert gpp["usnat"]["MspaOptOutOptionMode"] == 1
    assert gpp["usin"]["MspaMode"] == 1


def test_error_messages_do_not_echo_long_strings() -> None:
    secret_like = "DBABLA~" + "C" * 5000 + "!"
    with pytest.raises(GppError) as raised:
        decode(secret_like)
    assert len(str(raised.value)) < 200
    assert re.search(r"position 5007", str(raised.value))
