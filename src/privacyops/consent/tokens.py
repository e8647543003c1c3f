"""One-click unsubscribe links (RFC 8058): an opaque, signed token that carries the address
encrypted under the vault's key ring and the list, and never expires (CAN-SPAM, 15 U.S.C.
7704(a)(3)(A): the opt-out must keep working at least 30 days after the message is sent)."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from privacyops.vault.service import Vault

_SALT = "privacyops.consent.unsubscribe"
_CONTEXT = "consent:unsubscribe:email"
MAX_TOKEN = 1024


@dataclass(frozen=True)
class Unsubscribe:
    email: str
    list_key: str


@dataclass(frozen=True)
class UnsubscribeLinks:
    secret_key: str
    public_url: str

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret_key, salt=_SALT)

    def token(self, vault: Vault, email: str, list_key: str) -> str:
        sealed = vault.encrypt_secret(email, _CONTEXT)
        return str(self._serializer().dumps({"e": sealed, "l": list_key}))

    def url(self, token: str) -> str:
        return f"{self.public_url}/u/{token}"

    def read(self, vault: Vault, token: str) -> Unsubscribe | None:
        """The unsubscribe a token stands for, or None when it is not one of ours."""
        if not token or len(token) > MAX_TOKEN:
            return None
        try:
            data = self._serializer().loads(token)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("e"), str):
            return None
        try:
            email = vault.decrypt_secret(data["e"], _CONTEXT)
        except Exception:
            return None
        return Unsubscribe(email, str(data.get("l") or "marketing"))
