"""IAB Global Privacy Platform strings: our own encoder and decoder (none exists on PyPI).

    decode("DBABLA~CVVVkkkkkpFY.YA").sections["usnat"].fields["SaleOptOut"]  # 1, opted out
    encode({"usnat": {"SaleOptOut": 1, "Gpc": True}})
    usnat_for_choices(sale_opt_out=True, sharing_opt_out=True, targeted_opt_out=None, gpc=True)

Implemented: the header, usnat (7) v1 and v2 with its GPC sub-section, and the sections of the
states the policy names (CA VA CO UT CT FL MT OR TX DE IA TN IN; Nevada has no GPP section).
Other sections (tcfeuv2, uspv1, ...) are carried through unchanged as opaque text. Field
names and values are those of IAB's @iabgpp/cmpapi; tests cross-check both ways under node.
"""

from privacyops.consent.gpp.choices import usnat_for_choices
from privacyops.consent.gpp.codec import decode, decode_header, encode, encode_header
from privacyops.consent.gpp.errors import GppError
from privacyops.consent.gpp.fields import FieldValue
from privacyops.consent.gpp.model import GppString, Section
from privacyops.consent.gpp.registry import PREFIXES, SPECS, STATE_SECTIONS

__all__ = [
    "PREFIXES",
    "SPECS",
    "STATE_SECTIONS",
    "FieldValue",
    "GppError",
    "GppString",
    "Section",
    "decode",
    "decode_header",
    "encode",
    "encode_header",
    "usnat_for_choices",
]
