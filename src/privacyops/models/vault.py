"""Platform secrets (connector credentials and the like), encrypted directly under the key ring."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from privacyops.db import Base
from privacyops.models.types import UTCDateTime, utcnow


class VaultSecret(Base):
    """`ciphertext` is a vault token; `key_id` repeats its ring key so rotation can find it."""

    __tablename__ = "vault_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    ciphertext: Mapped[str] = mapped_column(Text, nullable=False)
    key_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
