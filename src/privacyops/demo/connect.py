"""Connect the demo retail shop as a datastore: what `make run` does for a new user."""

from __future__ import annotations

from datetime import date
from importlib.resources import files
from pathlib import Path

from privacyops import runtime
from privacyops.connectors import registry
from privacyops.db import unit_of_work
from privacyops.demo import shop
from privacyops.dsr.service import manifest_of
from privacyops.policy.service import version_in_force
from privacyops.settings import Settings

DEMO_DATASTORE = "demo-shop"


def declarations() -> str:
    return files("privacyops.demo").joinpath("datasets/shop.yaml").read_text(encoding="utf-8")


def connect_demo_shop(settings: Settings, customers: int = shop.DEFAULT_CUSTOMERS) -> str:
    """Create the demo shop (once) and connect it, unless another datastore is connected.

    Idempotent: a second `make run` finds it connected and changes nothing.
    """
    factory = runtime.open_session_factory(settings)
    with unit_of_work(factory) as db:
        if registry.enabled(db):
            return (
                "datastores: already connected ("
                + ", ".join(store.key for store in registry.enabled(db))
                + ")"
            )
    url = shop.default_url(settings.data_dir)
    database = Path(url.split("///", 1)[1])
    if not database.exists():
        shop.generate(url, customers=customers)
    vault = runtime.open_vault(settings)
    with unit_of_work(factory) as db:
        manifest = manifest_of(version_in_force(db, date.today()))
        registry.register(
            db,
            vault,
            manifest,
            key=DEMO_DATASTORE,
            name="Demo retail shop",
            kind="sql",
            declarations=declarations(),
            secret_values={"url": url},
            actor="cli",
            filename="demo/datasets/shop.yaml",
        )
    known = ", ".join(known.email for known in shop.KNOWN_CUSTOMERS)
    return f"demo shop connected as datastore {DEMO_DATASTORE!r}; try a request for: {known}"
