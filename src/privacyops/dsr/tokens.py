"""Signed, expiring links to a request's status page.

The reference alone opens nothing: the status page and `GET /api/v1/requests/{id}` need a token
signed with the platform's secret key, bound to the request, that expires. Tokens are handed
only to someone who proved control of the requester's address: in mails sent to it, and in the
answer to a correct verification code.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeTimedSerializer

from privacyops.secretkey import load_secret_key
from privacyops.settings import Settings

STATUS_TOKEN_DAYS = 45
_SALT = "privacyops.dsr.status"


@dataclass(frozen=True)
class StatusLinks:
    secret_key: str
    public_url: str
    max_age_days: int = STATUS_TOKEN_DAYS

    @classmethod
    def from_settings(cls, settings: Settings) -> StatusLinks:
        return cls(load_secret_key(settings), settings.public_url.rstrip("/"))

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret_key, salt=_SALT)

    def token(self, request_id: str) -> str:
        return str(self._serializer().dumps({"r": request_id}))

    def url(self, request_id: str) -> str:
        return f"{self.public_url}/requests/{request_id}?token={quote(self.token(request_id))}"

    def check(self, request_id: str, token: str | None) -> bool:
        """Whether `token` is a valid, unexpired token for `request_id`."""
        if not token or len(token) > 512:
            return False
        try:
            data = self._serializer().loads(token, max_age=self.max_age_days * 86400)
        except BadSignature:  # also SignatureExpired, its subclass
            return False
        return isinstance(data, dict) and data.get("r") == request_id
