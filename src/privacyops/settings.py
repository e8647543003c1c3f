"""One settings object for the whole platform, read from PRIVACYOPS_* environment variables.

It is built by `get_settings()` at the edge (app factory, CLI) and passed down; no module reads
the environment at import time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRIVACYOPS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        Path("var"),
        description="Folder for the embedded default's files: SQLite database, outbox, keys.",
    )
    database_url: str = Field(
        "",
        description=(
            "SQLAlchemy URL of the platform's own database. Empty means the embedded default, "
            "a SQLite file `privacyops.db` under data_dir."
        ),
    )
    database_echo: bool = Field(False, description="Log every SQL statement (debugging only).")
    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web server listens on.")
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="Address people reach the Privacy Center at; used in links and mails.",
    )
    default_policy_file: Path = Field(
        Path("examples/miniso-usa/policy.yaml"),
        description="Policy manifest that `privacyops setup` publishes when none is published yet.",
    )
    mail_backend: Literal["outbox", "smtp"] = Field(
        "outbox",
        description="`outbox` writes each mail as an .eml file in data_dir/outbox; `smtp` sends.",
    )
    smtp_host: str = Field("127.0.0.1", description="SMTP server host when mail_backend is smtp.")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP server port.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_username: str | None = Field(None, description="SMTP login, when the server needs one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password for smtp_username.")
    mail_from: str = Field(
        "privacy@localhost", description="Sender address of every mail the platform sends."
    )
    package_days: int = Field(
        30,
        ge=1,
        le=365,
        description="Days an access package stays downloadable before its content is erased.",
    )
    demo_shop: bool = Field(
        True,
        description=(
            "`privacyops setup` creates the demo retail shop (data_dir/demo-shop.db) and connects "
            "it as a datastore when no datastore is connected yet. Turn off in production."
        ),
    )
    consent_origins: list[str] = Field(
        default_factory=list,
        description=(
            "Origins of the retailer's sites that embed the consent banner (for example "
            "https://www.example.com): the banner's API calls are allowed from them (CORS). "
            "Empty: only this site's own pages."
        ),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Minimum level of log records written."
    )

    # --- security -------------------------------------------------------------------------
    secret_key: SecretStr | None = Field(
        None,
        description=(
            "Signs session and CSRF tokens. Empty: read from data_dir/secret.key, which "
            "`privacyops setup` creates on first start."
        ),
    )
    vault_keyring: SecretStr | None = Field(
        None,
        description=(
            'The vault\'s key ring as JSON: {"active": ID, "keys": {ID: base64 32-byte key}, '
            '"index_key": base64 32-byte key}. Empty: read from data_dir/vault-keys.json, '
            "which `privacyops setup` creates on first start."
        ),
    )
    keystore_url: str = Field(
        "",
        description=(
            "SQLAlchemy URL of the vault's key store (the wrapped per-subject data keys). It must "
            "be another database than database_url, so that erasing a key also makes the data in "
            "database backups unreadable. Empty: a SQLite file `keystore.db` under data_dir. On "
            "PostgreSQL, another database (or a schema via ?options=-csearch_path%3Dkeystore)."
        ),
    )
    session_idle_minutes: int = Field(
        30, ge=1, le=24 * 60, description="A staff session ends after this long without use."
    )
    session_absolute_hours: int = Field(
        12, ge=1, le=24 * 7, description="A staff session ends this long after login, in any case."
    )
    login_max_failures: int = Field(
        5, ge=1, le=100, description="Failed logins in a row before an account is locked."
    )
    login_lockout_seconds: int = Field(
        60, ge=1, description="First lockout's length; each further failure doubles it (max 1 h)."
    )
    job_backend: Literal["inline", "celery"] = Field(
        "inline",
        description=(
            "`inline` runs background jobs in a thread of the web process (embedded default); "
            "`celery` sends them to `privacyops worker` processes through Redis."
        ),
    )
    scheduler_enabled: bool = Field(
        True,
        description=(
            "With the inline job backend, `serve` also runs periodic jobs (mail dispatch, due "
            "dates, purges). Turn off where another process runs them."
        ),
    )
    rate_limit_backend: Literal["memory", "redis"] = Field(
        "memory", description="`memory` for one process (embedded default), `redis` to share."
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis for rate limits (and jobs, later)."
    )
    rate_limit_login: str = Field(
        "10/minute", description="Login attempts allowed per client address, as COUNT/PERIOD."
    )
    rate_limit_public: str = Field(
        "60/minute", description="Requests to public write endpoints per client, COUNT/PERIOD."
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'privacyops.db').as_posix()}"

    @property
    def effective_keystore_url(self) -> str:
        if self.keystore_url:
            return self.keystore_url
        return f"sqlite:///{(self.data_dir / 'keystore.db').as_posix()}"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def secure_cookies(self) -> bool:
        """Cookies get the Secure flag (and responses HSTS) when served over https."""
        return self.public_url.startswith("https://")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
