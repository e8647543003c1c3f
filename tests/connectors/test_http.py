"""The HTTP connector beyond the conformance suite: its config, paging, auth, retries, pacing
and opt-outs, against the shop API of `http_service` (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

from privacyops.connectors import CollectionSpec, ConnectorError
from privacyops.connectors.http import HttpConnector, HttpConnectorConfig
from privacyops.errors import InvalidInput
from tests.connectors.conftest import API_TOKEN, email_of, http_connector, shop_api_config
from tests.connectors.http_service import ShopService

CUSTOMER = CollectionSpec(
    "customers", ("id", "email", "name", "phone", "segment"), primary_key=("id",)
)
ORDER = CollectionSpec("orders", ("id", "customer_id", "total", "ship_to"), primary_key=("id",))
DROP = object()


def set_at(data: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """`data` with the value at a dotted path replaced (or removed, for DROP)."""
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    if value is DROP:
        del node[last]
    else:
        node[last] = value
    return data


def config_for(service: ShopService, **changes: object) -> dict[str, Any]:
    """The shop API config with changes at dotted paths (`__` stands for a dot)."""
    data = shop_api_config(service.url)
    for path, value in changes.items():
        set_at(data, path.replace("__", "."), value)
    return data


def ids(rows: list[dict[str, Any]]) -> list[Any]:
    return sorted(row["id"] for row in rows)


# --- the config --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        ("retries.count", -1, "retries.count", "greater than or equal to 0"),
        ("timeout_seconds", "5", "timeout_seconds", "valid number"),
        ("base_url", "ftp://shop.example.com", "base_url", "http:// or https://"),
        ("collections.customers.read.values", "json", "collections.customers.read", "POST"),
        ("collections.customers.read.colour", "red", "collections.customers.read.colour", "Extra"),
        ("collections.customers.read.path", "customers", "collections.customers.read.path", "/"),
        ("collections.orders.read.by", {"email": "email"}, "collections.orders", "read.by"),
        ("auth.token_secret", DROP, "auth.bearer.token_secret", "Field required"),
        (
            "collections.customers.read.pagination.next_at",
            DROP,
            "collections.customers.read.pagination.cursor.next_at",
            "Field required",
        ),
        (
            "collections.customers.update.path",
            "/customers/{key}",
            "collections.customers.update",
            "exactly one key field",
        ),
        (
            "collections.customers.delete.path",
            "/customers/{id}",
            "collections.customers.delete.path",
            "one {key}",
        ),
        ("retries.backoff_max_seconds", 0.1, "retries", "below backoff_base_seconds"),
    ],
)
def test_a_bad_config_is_refused_naming_the_field(
    path: str, value: object, field: str, words: str
) -> None:
    data = set_at(shop_api_config("http://127.0.0.1:8080"), path, value)

    with pytest.raises(InvalidInput) as bad:
        HttpConnectorConfig.parse(data)

    assert field in [problem.field for problem in bad.value.problems]
    assert words in str(bad.value)


def test_a_base_url_with_credentials_is_refused_without_echoing_them() -> None:
    data = shop_api_config("https://shop:pw-s3cret@api.example.com/v1")

    with pytest.raises(InvalidInput) as bad:
        HttpConnectorConfig.parse(data)

    assert [problem.field for problem in bad.value.problems] == ["base_url"]
    assert "name a secret under auth" in str(bad.value)
    assert "pw-s3cret" not in str(bad.value)
    assert "pw-s3cret" not in repr(bad.value.problems)


def test_a_secret_the_config_names_must_be_given() -> None:
    config = HttpConnectorConfig.parse(shop_api_config("http://127.0.0.1:8080"))

    with pytest.raises(ConnectorError) as missing:
        HttpConnector(config, {"another": "value"})

    assert "'shop_api_token'" in str(missing.value)
    assert "auth.token_secret" in str(missing.value)
    assert not missing.value.retryable


def test_the_name_defaults_to_the_host_never_a_path_or_query() -> None:
    data = set_at(shop_api_config("https://api.example.com:8443/v1/private"), "name", DROP)

    connector = HttpConnector(HttpConnectorConfig.parse(data), {"shop_api_token": "t"})

    assert connector.name == "api.example.com:8443"
    connector.close()


def test_the_config_names_the_secrets_it_needs() -> None:
    data = shop_api_config("http://127.0.0.1:8080")
    assert HttpConnectorConfig.parse(data).secret_names() == ["shop_api_token"]
    data["auth"] = {"type": "basic", "username": "shop", "password_secret": "shop_password"}
    assert HttpConnectorConfig.parse(data).secret_names() == ["shop_password"]
    data["auth"] = {"type": "none"}
    assert HttpConnectorConfig.parse(data).secret_names() == []


# --- reads: batches and pages ------------------------------------------------------------------

PAGINATIONS = {
    "cursor": (
        "cursor",
        {"kind": "cursor", "next_at": "meta.next_cursor", "size_param": "limit", "size": 3},
        3,
    ),
    "page-short": ("page", {"kind": "page", "size_param": "per_page", "size": 3}, 3),
    # Without a known size, only an empty page ends the list.
    "page-empty": ("page", {"kind": "page"}, 2),
    "link": ("link", {"kind": "link", "size_param": "per_page", "size": 3}, 3),
    "none": ("none", {"kind": "none"}, 1),
}


@pytest.mark.parametrize("case", list(PAGINATIONS))
def test_every_page_of_a_batch_is_read(shop_api: ShopService, case: str) -> None:
    style, pagination, requests = PAGINATIONS[case]
    shop_api.pagination = style
    connector = http_connector(
        config_for(shop_api, collections__customers__read__pagination=pagination)
    )

    rows = connector.retrieve(CUSTOMER, "id", list(range(1, 8)))

    assert ids(rows) == list(range(1, 8))
    reads = shop_api.sent("SELECT")
    assert len(reads) == requests
    # Every page asks for the same batch of values.
    assert all(dict(seen.query)["id"] == "1,2,3,4,5,6,7" for seen in reads)


def test_pages_follow_the_cursor_and_the_page_number(shop_api: ShopService) -> None:
    cursor = PAGINATIONS["cursor"][1]
    connector = http_connector(
        config_for(shop_api, collections__customers__read__pagination=cursor)
    )
    connector.retrieve(CUSTOMER, "id", list(range(1, 8)))
    assert [dict(seen.query).get("cursor") for seen in shop_api.sent("SELECT")] == [
        None,
        "c3",
        "c6",
    ]

    shop_api.requests.clear()
    shop_api.pagination = "page"
    page = PAGINATIONS["page-short"][1]
    connector = http_connector(config_for(shop_api, collections__customers__read__pagination=page))
    # A batch of exactly two full pages needs a third, empty, page to know it ended.
    assert ids(connector.retrieve(CUSTOMER, "id", list(range(1, 7)))) == list(range(1, 7))
    assert [dict(seen.query)["page"] for seen in shop_api.sent("SELECT")] == ["1", "2", "3"]


def test_a_next_link_to_another_host_is_not_followed(shop_api: ShopService) -> None:
    shop_api.pagination = "link"
    shop_api.link_prefix = "http://elsewhere.example"
    link = PAGINATIONS["link"][1]
    connector = http_connector(config_for(shop_api, collections__customers__read__pagination=link))

    with pytest.raises(ConnectorError, match="another host") as refused:
        connector.retrieve(CUSTOMER, "id", list(range(1, 8)))

    assert not refused.value.retryable
    assert len(shop_api.sent("SELECT")) == 1


def test_a_read_that_never_ends_stops_at_max_pages(shop_api: ShopService) -> None:
    cursor = {"kind": "cursor", "next_at": "meta.next_cursor", "size_param": "limit", "size": 1}
    connector = http_connector(
        config_for(
            shop_api,
            collections__customers__read__pagination=cursor,
            collections__customers__read__max_pages=2,
        )
    )

    with pytest.raises(ConnectorError, match="max_pages"):
        connector.retrieve(CUSTOMER, "id", [1, 2, 3])
    assert len(shop_api.sent("SELECT")) == 2


def test_values_in_a_json_body_are_one_request_per_batch(shop_api: ShopService) -> None:
    connector = http_connector(
        config_for(
            shop_api,
            collections__orders__read__method="POST",
            collections__orders__read__path="/orders/search",
            collections__orders__read__values="json",
            collections__orders__read__batch_size=2,
        )
    )

    rows = connector.retrieve(ORDER, "customer_id", [3, 5, 7, 3])

    assert ids(rows) == [31, 32, 51, 52, 71, 72]
    assert [seen.body for seen in shop_api.sent("SELECT")] == [
        {"customer_id": [3, 5]},
        {"customer_id": [7]},
    ]


def test_values_as_a_repeated_parameter_may_hold_commas(shop_api: ShopService) -> None:
    shop_api.split_commas = False
    shop_api.tables["customers"][0]["email"] = "lee, ann@example.com"
    connector = http_connector(config_for(shop_api, collections__customers__read__values="repeat"))

    rows = connector.retrieve(CUSTOMER, "email", ["lee, ann@example.com", email_of(2)])

    assert ids(rows) == [1, 2]
    (seen,) = shop_api.sent("SELECT")
    assert [value for name, value in seen.query if name == "email"] == [
        "lee, ann@example.com",
        email_of(2),
    ]


def test_a_comma_joined_parameter_refuses_a_value_with_a_comma(shop_api: ShopService) -> None:
    connector = http_connector(config_for(shop_api))

    with pytest.raises(ConnectorError, match="holds a comma") as refused:
        connector.retrieve(CUSTOMER, "email", ["Lee, Ann", email_of(2)])

    assert "Lee" not in str(refused.value)
    assert shop_api.requests == []


def test_rows_missing_at_the_configured_path_are_an_error(shop_api: ShopService) -> None:
    connector = http_connector(config_for(shop_api, collections__customers__read__rows_at="rows"))

    with pytest.raises(ConnectorError, match="no list of rows at 'rows'") as refused:
        connector.retrieve(CUSTOMER, "id", [1])
    assert not refused.value.retryable


# --- writes ------------------------------------------------------------------------------------


def per_key_config(service: ShopService) -> dict[str, Any]:
    return config_for(
        service,
        collections__customers__update={
            "method": "PATCH",
            "path": "/customers/{key}",
            "key_fields": ["id"],
            "changed_at": "changed",
        },
        # No count in the answer: a 2xx counts the row, a 404 says it is already gone.
        collections__customers__delete={
            "method": "DELETE",
            "path": "/customers/{key}",
            "key_fields": ["id"],
        },
    )


def test_per_key_endpoints_are_one_request_per_row_and_safe_to_re_run(
    shop_api: ShopService,
) -> None:
    connector = http_connector(per_key_config(shop_api))
    updates = {k: {"phone": f"masked-{k}"} for k in (5, 6, 7)}

    assert connector.mask(CUSTOMER, "id", updates) == 3
    assert connector.mask(CUSTOMER, "id", updates) == 0
    assert connector.delete(ORDER, "customer_id", [5, 6]) == 4
    assert connector.delete(CUSTOMER, "id", [5, 6]) == 2
    assert connector.delete(CUSTOMER, "id", [5, 6]) == 0

    assert [seen.target for seen in shop_api.sent("UPDATE")] == [
        "/customers/5",
        "/customers/6",
        "/customers/7",
    ] * 2
    assert len(shop_api.sent("DELETE")) == 1 + 2 + 2
    assert ids(connector.retrieve(CUSTOMER, "id", [5, 6, 7])) == [7]
    assert connector.retrieve(CUSTOMER, "id", [7])[0]["phone"] == "masked-7"


def test_a_per_key_path_encodes_the_key_and_refuses_dot_segments(shop_api: ShopService) -> None:
    connector = http_connector(per_key_config(shop_api))

    assert connector.mask(CUSTOMER, "id", {"../orders/batch-delete": {"name": None}}) == 0
    (seen,) = shop_api.sent("UPDATE")
    assert seen.target == "/customers/..%2Forders%2Fbatch-delete"
    with pytest.raises(ConnectorError, match="dot segment"):
        connector.delete(CUSTOMER, "id", [".."])
    with pytest.raises(ConnectorError, match="cannot address rows by 'email'"):
        connector.mask(CUSTOMER, "email", {email_of(1): {"name": None}})


def test_without_a_count_in_the_answer_the_accepted_keys_are_counted(
    shop_api: ShopService,
) -> None:
    connector = http_connector(
        config_for(shop_api, collections__customers__update__changed_at=DROP)
    )
    updates = {k: {"segment": "vip"} for k in (1, 2)}

    # The API does not say what changed, so a re-run reports the keys it accepted again.
    assert connector.mask(CUSTOMER, "id", updates) == 2
    assert connector.mask(CUSTOMER, "id", updates) == 2


def test_a_batch_write_sends_each_rows_own_values(shop_api: ShopService) -> None:
    connector = http_connector(config_for(shop_api))

    connector.mask(ORDER, "customer_id", {3: {"ship_to": "h-3"}, 4: {"ship_to": None}})

    (seen,) = shop_api.sent("UPDATE")
    assert seen.body == [
        {"key": {"customer_id": 3}, "changes": {"ship_to": "h-3"}},
        {"key": {"customer_id": 4}, "changes": {"ship_to": None}},
    ]


def test_a_count_missing_from_the_answer_is_an_error(shop_api: ShopService) -> None:
    connector = http_connector(
        config_for(shop_api, collections__customers__update__changed_at="meta.changed")
    )

    with pytest.raises(ConnectorError, match=r"no count at 'meta\.changed'"):
        connector.mask(CUSTOMER, "id", {1: {"name": None}})


def test_a_correction_by_the_primary_key_needs_no_read_and_others_read_two_rows_at_most(
    shop_api: ShopService,
) -> None:
    connector = http_connector(config_for(shop_api))

    assert connector.correct(CUSTOMER, "id", 5, {"name": "Ann Lee"}) == 1
    assert shop_api.sent("SELECT") == []
    assert connector.correct(CUSTOMER, "email", email_of(6), {"name": "Bo Li"}) == 1
    (check,) = shop_api.sent("SELECT")
    assert dict(check.query)["limit"] == "2"


# --- auth and secrets --------------------------------------------------------------------------


def test_the_bearer_token_is_sent(shop_api: ShopService) -> None:
    http_connector(config_for(shop_api)).test_connection()

    (seen,) = shop_api.requests
    assert seen.target == "/health"
    assert seen.headers["authorization"] == f"Bearer {API_TOKEN}"


@pytest.mark.parametrize(
    ("auth", "header", "expected"),
    [
        (
            {"type": "basic", "username": "shop", "password_secret": "shop_api_token"},
            "authorization",
            "Basic " + base64.b64encode(f"shop:{API_TOKEN}".encode()).decode(),
        ),
        (
            {"type": "api_key", "header": "X-Shop-Key", "key_secret": "shop_api_token"},
            "x-shop-key",
            API_TOKEN,
        ),
        ({"type": "none"}, "authorization", None),
    ],
    ids=["basic", "api_key", "none"],
)
def test_other_auth_kinds_send_their_header(
    shop_api: ShopService, auth: dict[str, str], header: str, expected: str | None
) -> None:
    shop_api.token = None  # the service checks nothing; the test reads what arrived
    connector = http_connector(config_for(shop_api, auth=auth, health=DROP))

    connector.test_connection()

    (seen,) = shop_api.requests
    assert seen.target == "/"
    assert seen.headers.get(header) == expected


def test_a_refused_token_is_not_retried_nor_quoted(shop_api: ShopService) -> None:
    sleeps: list[float] = []
    connector = http_connector(config_for(shop_api), sleeps, token="wrong-t0ken")

    with pytest.raises(ConnectorError, match="did not accept the credentials") as refused:
        connector.retrieve(CUSTOMER, "email", [email_of(1)])

    assert not refused.value.retryable
    assert "HTTP 401 Unauthorized" in str(refused.value)
    assert "wrong-t0ken" not in str(refused.value)
    assert email_of(1) not in str(refused.value)
    assert (len(shop_api.requests), sleeps) == (1, [])


def test_no_secret_or_identity_reaches_the_logs_or_messages(
    shop_api: ShopService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connector = http_connector(config_for(shop_api))
    shop_api.fail_next(1, 503)
    connector.retrieve(CUSTOMER, "email", [email_of(1)])
    shop_api.fail_next(3, 500)
    with pytest.raises(ConnectorError) as failed:
        connector.retrieve(CUSTOMER, "email", [email_of(2)])
    shop_api.stop()
    try:
        with pytest.raises(ConnectorError) as refused:
            connector.retrieve(CUSTOMER, "email", [email_of(3)])
    finally:
        shop_api.start()

    ours = [r.getMessage() for r in caplog.records if r.name.startswith("privacyops")]
    assert any("retrying" in message for message in ours)
    everything = caplog.text + " ".join(ours) + str(failed.value) + str(refused.value)
    assert API_TOKEN not in everything
    for message in [*ours, str(failed.value), str(refused.value)]:
        assert "@" not in message
        assert "?" not in message  # no URL query, where the identities travel


# --- failures and retries ----------------------------------------------------------------------


def test_server_errors_are_retried_with_exponential_back_off(shop_api: ShopService) -> None:
    sleeps: list[float] = []
    connector = http_connector(config_for(shop_api), sleeps)
    shop_api.fail_next(2, 500)

    assert ids(connector.retrieve(CUSTOMER, "id", [1, 2])) == [1, 2]
    assert sleeps == [0.5, 1.0]
    assert len(shop_api.sent("SELECT")) == 3


def test_back_off_stops_growing_at_its_maximum(shop_api: ShopService) -> None:
    sleeps: list[float] = []
    connector = http_connector(config_for(shop_api, retries__count=5), sleeps)
    shop_api.fail_next(5, 502)

    connector.test_connection()

    assert sleeps == [0.5, 1.0, 2.0, 4.0, 4.0]


def test_retries_run_out_as_a_retryable_error(shop_api: ShopService) -> None:
    sleeps: list[float] = []
    connector = http_connector(config_for(shop_api), sleeps)
    shop_api.fail_next(3, 500)

    with pytest.raises(ConnectorError) as failed:
        connector.delete(CUSTOMER, "id", [1])

    assert failed.value.retryable
    assert str(failed.value) == (
        "shop API: delete of 'customers' failed: HTTP 500 Internal Server Error after 3 attempt(s)"
    )
    assert len(shop_api.sent("DELETE")) == 3
    assert connector.retrieve(CUSTOMER, "id", [1]) != []


@pytest.mark.parametrize(
    ("status", "retry_after", "slept"),
    [
        (429, "3", 3.0),
        (503, "2", 2.0),
        (429, "120", 4.0),  # capped at backoff_max_seconds
        (429, "Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a date already past
        (429, None, 0.5),  # no header: the usual back-off
        (500, "3", 0.5),  # Retry-After only counts on 429 and 503
    ],
)
def test_retry_after_is_honoured_up_to_the_maximum(
    shop_api: ShopService, status: int, retry_after: str | None, slept: float
) -> None:
    sleeps: list[float] = []
    connector = http_connector(config_for(shop_api), sleeps)
    shop_api.fail_next(1, status, retry_after)

    assert len(connector.retrieve(CUSTOMER, "id", [1])) == 1
    assert sleeps == [slept]


@pytest.mark.parametrize("status", [400, 403, 409, 422])
def test_client_errors_are_not_retried(shop_api: ShopService, status: int) -> None:
    sleeps: list[float] = []
    connector = http_connector(config_for(shop_api), sleeps)
    shop_api.fail_next(1, status)

    with pytest.raises(ConnectorError, match=f"HTTP {status}") as refused:
        connector.mask(CUSTOMER, "id", {1: {"name": None}})

    assert not refused.value.retryable
    assert (len(shop_api.requests), sleeps) == (1, [])


def test_a_collection_the_api_does_not_have_is_named(shop_api: ShopService) -> None:
    invoices = {"fields": ["id"], "read": {"path": "/invoices", "by": {"id": "id"}}}
    connector = http_connector(config_for(shop_api, collections__invoices=invoices))

    with pytest.raises(ConnectorError) as refused:
        connector.retrieve(CollectionSpec("invoices", ("id",)), "id", [1])

    assert not refused.value.retryable
    assert "'invoices'" in str(refused.value)
    assert "HTTP 404 Not Found" in str(refused.value)


def test_a_timeout_is_retried_then_retryable(shop_api: ShopService) -> None:
    sleeps: list[float] = []
    connector = http_connector(config_for(shop_api, timeout_seconds=0.2, retries__count=1), sleeps)
    shop_api.hang_next(2)

    with pytest.raises(ConnectorError, match="timed out after 2 attempt") as failed:
        connector.retrieve(CUSTOMER, "id", [1])

    assert failed.value.retryable
    assert sleeps == [0.5]
    shop_api.hang_next(1)
    assert len(connector.retrieve(CUSTOMER, "id", [1])) == 1


def test_a_refused_connection_is_retryable_and_the_connector_resumes(
    shop_api: ShopService,
) -> None:
    sleeps: list[float] = []
    connector = http_connector(config_for(shop_api), sleeps)
    shop_api.stop()
    try:
        with pytest.raises(ConnectorError, match="could not connect after 3 attempt") as failed:
            connector.mask(CUSTOMER, "id", {1: {"name": None}})
    finally:
        shop_api.start()

    assert failed.value.retryable
    assert sleeps == [0.5, 1.0]
    assert connector.mask(CUSTOMER, "id", {1: {"name": None}}) == 1


# --- pacing ------------------------------------------------------------------------------------


class FakeClock:
    """Time that passes only when the connector sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def paced(service: ShopService, clock: FakeClock, **changes: object) -> HttpConnector:
    config = HttpConnectorConfig.parse(config_for(service, **changes))
    return HttpConnector(config, {"shop_api_token": API_TOKEN}, sleep=clock.sleep, clock=clock.time)


def test_requests_are_paced_to_the_rate_limit(shop_api: ShopService) -> None:
    clock = FakeClock()
    connector = paced(shop_api, clock, rate_limit_per_second=4)

    for key in (1, 2, 3):
        connector.retrieve(CUSTOMER, "id", [key])
    clock.now += 10  # a quiet while: the next request need not wait
    connector.retrieve(CUSTOMER, "id", [4])

    assert clock.sleeps == pytest.approx([0.25, 0.25])
    assert len(shop_api.sent("SELECT")) == 4


def test_retries_are_paced_too(shop_api: ShopService) -> None:
    clock = FakeClock()
    connector = paced(shop_api, clock, rate_limit_per_second=1)
    shop_api.fail_next(1, 500)

    connector.test_connection()

    # Back-off of 0.5 s, then the rest of the second the rate limit asks for.
    assert clock.sleeps == pytest.approx([0.5, 0.5])


# --- opt-outs ----------------------------------------------------------------------------------


def opt_out_config(service: ShopService) -> dict[str, Any]:
    return config_for(
        service,
        opt_out={
            "path": "/opt-outs",
            "body": {
                "type": "{kind}",
                "subject": {"email": "{email}", "phone": "{phone}"},
                "note": "{kind} requested through privacyops",
                "channels": ["{email}", "{phone}"],
                "source": "privacyops",
            },
            "kinds": {"sale": "do_not_sell", "sharing": "do_not_share"},
        },
    )


def test_an_opt_out_fills_the_body_template(shop_api: ShopService) -> None:
    connector = http_connector(opt_out_config(shop_api))

    connector.apply_opt_out("sale", {"email": "ann@example.com"})

    # The subject has no phone: the members naming it are left out.
    assert shop_api.opt_outs == [
        {
            "type": "do_not_sell",
            "subject": {"email": "ann@example.com"},
            "note": "do_not_sell requested through privacyops",
            "channels": ["ann@example.com"],
            "source": "privacyops",
        }
    ]
    (seen,) = shop_api.requests
    assert (seen.method, seen.target) == ("POST", "/opt-outs")
    assert seen.headers["authorization"] == f"Bearer {API_TOKEN}"


def test_an_opt_out_the_api_does_not_take_sends_nothing(shop_api: ShopService) -> None:
    http_connector(opt_out_config(shop_api)).apply_opt_out("profiling", {"email": "a@b.example"})
    http_connector(config_for(shop_api, opt_out=DROP)).apply_opt_out("sale", {"email": "a@b.co"})

    assert shop_api.requests == []


def test_a_refused_opt_out_names_the_kind_not_the_person(shop_api: ShopService) -> None:
    connector = http_connector(opt_out_config(shop_api))
    shop_api.fail_next(1, 422)

    with pytest.raises(ConnectorError) as refused:
        connector.apply_opt_out("sharing", {"email": "ann@example.com"})

    assert str(refused.value) == (
        "shop API: opt-out of 'sharing': refused (HTTP 422 Unprocessable Entity)"
    )
    assert not refused.value.retryable
