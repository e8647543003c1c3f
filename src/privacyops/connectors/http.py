"""The HTTP connector: a datastore behind a web API, described by a declarative config.

An API has no schema to reflect, so the config names each collection's fields, the fields its
rows can be looked up by and the fields its writes can address rows by. Any other name is
refused before a request is sent, as the SQL connector refuses a column its table lacks.

Reads always go in batches: many values in one request (a comma-joined or repeated query
parameter, or a JSON list in the body), then every page of the answer. Writes use the batch
endpoint the config gives (a JSON list of `{"key": {field: value}, "changes": {...}}`); an API
with only per-key endpoints (a path holding `{key}`, such as `/customers/{key}`) leaves no
choice but one request per row.

Secrets are not in the config: it names them (`auth.token_secret`) and the connector receives
their values, from the vault, as `secrets`. Messages name the datastore, the operation and the
HTTP status; never a URL (its query may hold identities), a response body or a secret.

One connector serves one job at a time: the pacing state is not shared between threads.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from decimal import Decimal
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from itertools import islice
from typing import Annotated, Any, Literal
from urllib.parse import quote
from uuid import UUID

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    field_validator,
    model_validator,
)

from privacyops.connectors.port import CollectionSpec, ConnectorError, Row
from privacyops.errors import FieldProblem, InvalidInput

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 100  # values per read; URLs longer than ~8 KB are refused by many servers
KEY_PLACEHOLDER = "{key}"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# --- the config --------------------------------------------------------------------------------

SecretName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_.:/-]+$",
        max_length=200,
        description="The name of a secret in the vault; never the secret itself.",
    ),
]
FieldName = Annotated[str, Field(min_length=1, max_length=200)]
ParamName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\[\]-]+$", max_length=100)]
EndpointPath = Annotated[
    str,
    Field(
        pattern=r"^/[^?#\s]*$",
        max_length=500,
        description="A path under base_url, starting with '/', without a query.",
    ),
]
DottedPath = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        max_length=200,
        description="Where a value sits in a JSON response, such as 'data.items'.",
    ),
]
PageSize = Annotated[int, Field(ge=1, le=10_000)]


class Strict(BaseModel):
    # hide_input_in_errors: a base_url that wrongly carries a password must not be echoed.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, hide_input_in_errors=True)


class NoAuth(Strict):
    type: Literal["none"]


class BearerAuth(Strict):
    type: Literal["bearer"]
    token_secret: SecretName = Field(description="Sent as 'Authorization: Bearer <token>'.")


class BasicAuth(Strict):
    type: Literal["basic"]
    username: str = Field(min_length=1, max_length=200)
    password_secret: SecretName


class ApiKeyAuth(Strict):
    type: Literal["api_key"]
    header: str = Field(default="X-API-Key", pattern=r"^[A-Za-z0-9-]+$", max_length=100)
    key_secret: SecretName


Auth = Annotated[NoAuth | BearerAuth | BasicAuth | ApiKeyAuth, Field(discriminator="type")]


class Retries(Strict):
    """Retries of connection failures, timeouts, HTTP 429 and 5xx, with exponential back-off."""

    count: int = Field(default=3, ge=0, le=10, description="Retries after the first attempt.")
    backoff_base_seconds: float = Field(default=0.5, gt=0, le=60)
    backoff_max_seconds: float = Field(
        default=30, gt=0, le=600, description="Also caps how long a Retry-After is honoured."
    )

    @model_validator(mode="after")
    def _max_not_below_base(self) -> Retries:
        if self.backoff_max_seconds < self.backoff_base_seconds:
            raise ValueError("backoff_max_seconds is below backoff_base_seconds")
        return self


class _Sized(Strict):
    size_param: ParamName | None = Field(
        default=None, description="The query parameter that asks for a page size."
    )
    size: PageSize | None = Field(default=None, description="Rows per page asked for.")

    @model_validator(mode="after")
    def _size_with_param(self) -> _Sized:
        if self.size_param is not None and self.size is None:
            raise ValueError("size_param needs a size")
        return self


class NoPagination(Strict):
    kind: Literal["none"]


class PagePagination(_Sized):
    """Numbered pages; the last one is empty or, when `size` is known, shorter than it."""

    kind: Literal["page"]
    param: ParamName = "page"
    first: int = Field(default=1, ge=0)


class CursorPagination(_Sized):
    """The response names the next page's cursor; none (or an empty one) ends the list."""

    kind: Literal["cursor"]
    next_at: DottedPath
    param: ParamName = "cursor"


class LinkPagination(_Sized):
    """An RFC 8288 `Link: <...>; rel="next"` header, followed only on the same host."""

    kind: Literal["link"]


Pagination = Annotated[
    NoPagination | PagePagination | CursorPagination | LinkPagination,
    Field(discriminator="kind"),
]


class ReadEndpoint(Strict):
    method: Literal["GET", "POST"] = "GET"
    path: EndpointPath
    by: dict[FieldName, ParamName] = Field(
        min_length=1,
        description="The fields rows can be looked up by, each with its parameter name.",
    )
    values: Literal["comma", "repeat", "json"] = Field(
        default="comma",
        description="comma: ?email=a,b  repeat: ?email=a&email=b  json: body {email: [a, b]}",
    )
    batch_size: PageSize = DEFAULT_BATCH_SIZE
    rows_at: DottedPath | None = Field(
        default=None, description="Where the list of rows is; none: the body is the list."
    )
    pagination: Pagination = NoPagination(kind="none")
    max_pages: int = Field(default=1000, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _json_needs_a_body(self) -> ReadEndpoint:
        if self.values == "json" and self.method == "GET":
            raise ValueError("values 'json' sends a body: set method to POST")
        return self


class WriteEndpoint(Strict):
    """An update or delete endpoint: a batch one, or a per-key one when the path has `{key}`."""

    method: Literal["POST", "PUT", "PATCH", "DELETE"]
    path: str = Field(pattern=r"^/[^?#\s]*$", max_length=500)
    key_fields: list[FieldName] = Field(
        min_length=1, description="The fields this endpoint can address rows by."
    )
    batch_size: PageSize = DEFAULT_BATCH_SIZE
    changed_at: DottedPath | None = Field(
        default=None,
        description="Where the response says how many rows changed; none: the keys accepted.",
    )

    @property
    def per_key(self) -> bool:
        return KEY_PLACEHOLDER in self.path

    @field_validator("path")
    @classmethod
    def _only_the_key_placeholder(cls, path: str) -> str:
        if path.replace(KEY_PLACEHOLDER, "").count("{") or path.count(KEY_PLACEHOLDER) > 1:
            raise ValueError("the only placeholder a path may hold is one {key}")
        return path

    @model_validator(mode="after")
    def _one_key_per_resource(self) -> WriteEndpoint:
        if self.per_key and len(self.key_fields) != 1:
            raise ValueError("a per-key path ({key}) addresses rows by exactly one key field")
        return self


class CollectionEndpoints(Strict):
    fields: list[FieldName] = Field(
        min_length=1, description="Every field the API's rows of this collection carry."
    )
    read: ReadEndpoint | None = None
    update: WriteEndpoint | None = None
    delete: WriteEndpoint | None = None

    @model_validator(mode="after")
    def _names_are_fields(self) -> CollectionEndpoints:
        if len(set(self.fields)) != len(self.fields):
            raise ValueError("fields lists a name twice")
        named = [("read.by", list(self.read.by))] if self.read else []
        named += [(f"{op}.key_fields", end.key_fields) for op, end in self._writes()]
        for where, names in named:
            unknown = [name for name in names if name not in self.fields]
            if unknown:
                raise ValueError(f"{where} names {unknown}, which are not among fields")
        return self

    def _writes(self) -> list[tuple[str, WriteEndpoint]]:
        pairs = [("update", self.update), ("delete", self.delete)]
        return [(op, endpoint) for op, endpoint in pairs if endpoint is not None]


class OptOutEndpoint(Strict):
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    path: EndpointPath
    body: dict[str, JsonValue] = Field(
        description=(
            "A JSON template: '{kind}' and identity names ('{email}') are filled in; a member "
            "naming an identity the subject does not have is left out."
        )
    )
    kinds: dict[str, str] | None = Field(
        default=None,
        description="Our opt-out kinds (sale, sharing...) to the API's words; others are skipped.",
    )


class HttpConnectorConfig(Strict):
    """How to reach one API: where, as whom, how fast, and which endpoint does what."""

    name: str | None = Field(default=None, max_length=200, description="Shown in messages.")
    base_url: str = Field(max_length=500)
    auth: Auth = NoAuth(type="none")
    timeout_seconds: float = Field(default=10, gt=0, le=300)
    rate_limit_per_second: float | None = Field(
        default=None, gt=0, le=10_000, description="Client-side pacing of every request."
    )
    retries: Retries = Retries()
    health: EndpointPath | None = Field(
        default=None, description="Checked by test_connection; none: the base URL."
    )
    collections: dict[FieldName, CollectionEndpoints] = Field(min_length=1)
    opt_out: OptOutEndpoint | None = None

    @field_validator("base_url")
    @classmethod
    def _plain_http_url(cls, value: str) -> str:
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL:
            raise ValueError("not a valid URL") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("must be an http:// or https:// URL with a host")
        if url.userinfo:
            raise ValueError("must not carry credentials: name a secret under auth instead")
        if url.query or url.fragment:
            raise ValueError("must not carry a query or fragment")
        return value

    def secret_names(self) -> list[str]:
        """The vault secrets the connector needs (`secrets` must hold a value for each)."""
        auth = self.auth
        if isinstance(auth, BearerAuth):
            return [auth.token_secret]
        if isinstance(auth, BasicAuth):
            return [auth.password_secret]
        if isinstance(auth, ApiKeyAuth):
            return [auth.key_secret]
        return []

    @classmethod
    def parse(cls, data: object) -> HttpConnectorConfig:
        """Validate a config (from YAML); every problem is reported with its dotted field."""
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            problems = [
                FieldProblem(".".join(str(part) for part in issue["loc"]) or "config", issue["msg"])
                for issue in error.errors(include_url=False, include_input=False)
            ]
            summary = "; ".join(problem.render() for problem in problems)
            raise InvalidInput(f"invalid HTTP connector config: {summary}", problems) from None


# --- the connector -----------------------------------------------------------------------------

_NO_BODY = object()
_MISSING = object()


class HttpConnector:
    """A datastore behind an HTTP API; one httpx client per connector."""

    def __init__(
        self,
        config: HttpConnectorConfig,
        secrets: Mapping[str, str] | None = None,
        *,
        name: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        base = httpx.URL(config.base_url)
        self.name = name or config.name or _describe(base)
        self._origin = _origin(base)
        self._sleep = sleep
        self._clock = clock
        self._last_request: float | None = None
        headers, auth = self._credentials(secrets or {})
        self._client = httpx.Client(
            base_url=config.base_url,
            headers={"Accept": "application/json", "User-Agent": "privacyops", **headers},
            auth=auth,
            timeout=config.timeout_seconds,
            # A redirect is a misconfigured base URL, not something to follow with credentials.
            follow_redirects=False,
        )

    # -- the port ---------------------------------------------------------------------------

    def test_connection(self) -> None:
        self._call("health check", "the API", "GET", self.config.health or "")

    def retrieve(self, collection: CollectionSpec, field: str, values: Sequence[Any]) -> list[Row]:
        """Rows whose `field` is one of `values`, with only the declared fields.

        Fields the API sends beyond the declaration are dropped here, so a package cannot
        carry data the declaration (and so the policy) does not name.
        """
        endpoints = self._endpoints(collection.name)
        wanted = self._known(collection.name, endpoints, collection.fields or endpoints.fields)
        read, param = self._lookup(collection.name, endpoints, field)
        found: list[Row] = []
        for chunk in _chunks(values, read.batch_size):
            for row in self._read(collection.name, read, param, chunk):
                found.append({name: row.get(name) for name in wanted})
        return found

    def mask(
        self,
        collection: CollectionSpec,
        key_field: str,
        updates: Mapping[Any, Mapping[str, Any]],
    ) -> int:
        """Send each key's values, a batch per request where the API has a batch endpoint.

        The API decides what changed: re-sending values a row already holds changes nothing,
        and the count comes from the response where the config says where to find it.
        """
        endpoints = self._endpoints(collection.name)
        update = self._write_endpoint(collection.name, endpoints.update, "update", key_field)
        for changes in updates.values():
            self._known(collection.name, endpoints, list(changes))
        items = [(key, dict(changes)) for key, changes in updates.items() if changes]
        return self._write("update", collection.name, update, key_field, items)

    def delete(self, collection: CollectionSpec, key_field: str, keys: Sequence[Any]) -> int:
        endpoints = self._endpoints(collection.name)
        delete = self._write_endpoint(collection.name, endpoints.delete, "delete", key_field)
        items: list[tuple[Any, dict[str, Any] | None]] = [(key, None) for key in _distinct(keys)]
        return self._write("delete", collection.name, delete, key_field, items)

    def correct(
        self, collection: CollectionSpec, key_field: str, key: Any, changes: Mapping[str, Any]
    ) -> int:
        """Change one row; a key that matches several rows changes none of them.

        Unless the key is the declared primary key, the API is asked first (at most two rows)
        whether the key names one row: a batch update would otherwise change them all.
        """
        endpoints = self._endpoints(collection.name)
        self._known(collection.name, endpoints, list(changes))
        update = self._write_endpoint(collection.name, endpoints.update, "update", key_field)
        if not changes:
            return 0
        if collection.primary_key != (key_field,):
            read, param = self._lookup(collection.name, endpoints, key_field)
            if len(list(islice(self._read(collection.name, read, param, [key], want=2), 2))) > 1:
                raise ConnectorError(
                    f"{collection.name}.{key_field} matches several rows; nothing was corrected",
                    datastore=self.name,
                )
        return self._write("update", collection.name, update, key_field, [(key, dict(changes))])

    def apply_opt_out(self, kind: str, identities: Mapping[str, str]) -> None:
        """Tell the API the subject opted out of `kind`.

        An API without an opt-out endpoint, or whose `kinds` do not list this kind, has
        nothing to stop: the engine records the opt-out elsewhere either way.
        """
        opt_out = self.config.opt_out
        if opt_out is None:
            return
        word = kind if opt_out.kinds is None else opt_out.kinds.get(kind)
        if word is None:
            logger.info("%s: no opt-out of kind %r at this API", self.name, kind)
            return
        body = _fill(opt_out.body, {**identities, "kind": word})
        self._call("opt-out", repr(kind), opt_out.method, opt_out.path, body=body)

    def close(self) -> None:
        self._client.close()

    # -- names ------------------------------------------------------------------------------

    def _endpoints(self, name: str) -> CollectionEndpoints:
        endpoints = self.config.collections.get(name)
        if endpoints is None:
            raise ConnectorError(
                f"no endpoints are configured for collection {name!r}", datastore=self.name
            )
        return endpoints

    def _known(
        self, name: str, endpoints: CollectionEndpoints, fields: Sequence[str]
    ) -> Sequence[str]:
        for field in fields:
            if field not in endpoints.fields:
                raise ConnectorError(
                    f"collection {name!r} has no field {field!r}", datastore=self.name
                )
        return fields

    def _lookup(
        self, name: str, endpoints: CollectionEndpoints, field: str
    ) -> tuple[ReadEndpoint, str]:
        if endpoints.read is None:
            raise ConnectorError(f"collection {name!r} has no read endpoint", datastore=self.name)
        param = endpoints.read.by.get(field)
        if param is None:
            raise ConnectorError(
                f"collection {name!r} cannot be looked up by {field!r}", datastore=self.name
            )
        return endpoints.read, param

    def _write_endpoint(
        self, name: str, endpoint: WriteEndpoint | None, operation: str, key_field: str
    ) -> WriteEndpoint:
        if endpoint is None:
            raise ConnectorError(
                f"collection {name!r} has no {operation} endpoint", datastore=self.name
            )
        if key_field not in endpoint.key_fields:
            raise ConnectorError(
                f"the {operation} endpoint of {name!r} cannot address rows by {key_field!r}",
                datastore=self.name,
            )
        return endpoint

    # -- reads ------------------------------------------------------------------------------

    def _read(
        self,
        name: str,
        read: ReadEndpoint,
        param: str,
        chunk: list[Any],
        *,
        want: int | None = None,
    ) -> Iterator[Row]:
        """Every row of one batch, page after page; `want` asks for small pages when it can."""
        query, body = self._batch_request(name, read, param, chunk)
        paging = read.pagination
        if not isinstance(paging, NoPagination) and paging.size_param and paging.size:
            query.append((paging.size_param, str(min(paging.size, want or paging.size))))
        first = paging.first if isinstance(paging, PagePagination) else 0
        page: _Page | None = _Page(read.path, query, first)
        for _ in range(read.max_pages):
            if page is None:
                return
            params = page.params(paging)
            response = self._call(
                "read", repr(name), read.method, page.url, params=params, body=body
            )
            payload = self._json(response, "read", name)
            rows = self._rows(name, read, payload)
            yield from rows
            page = self._following(name, paging, page, response, payload, len(rows))
        if page is not None:
            raise ConnectorError(
                f"read of {name!r} stopped after {read.max_pages} pages (max_pages)",
                datastore=self.name,
            )

    def _rows(self, name: str, read: ReadEndpoint, payload: object) -> list[Row]:
        found = payload if read.rows_at is None else _at(payload, read.rows_at)
        if not isinstance(found, list) or not all(isinstance(row, dict) for row in found):
            where = repr(read.rows_at) if read.rows_at else "its top level"
            raise ConnectorError(
                f"the answer to read of {name!r} has no list of rows at {where}",
                datastore=self.name,
            )
        return found

    def _following(
        self,
        name: str,
        paging: NoPagination | PagePagination | CursorPagination | LinkPagination,
        page: _Page,
        response: httpx.Response,
        payload: object,
        count: int,
    ) -> _Page | None:
        """The next page of a batch, or None when this one was the last."""
        if isinstance(paging, PagePagination):
            short = paging.size is not None and count < paging.size
            return None if count == 0 or short else page.next(number=page.number + 1)
        if isinstance(paging, CursorPagination):
            cursor = _at(payload, paging.next_at)
            if cursor is _MISSING or cursor is None or cursor == "":
                return None
            if str(cursor) == page.cursor:
                raise ConnectorError(
                    f"read of {name!r}: the API repeated a cursor", datastore=self.name
                )
            return page.next(cursor=str(cursor))
        if isinstance(paging, LinkPagination):
            link = self._next_link(name, response)
            # The link carries the whole query: the values and the page size included.
            return None if link is None else _Page(link, [], 0)
        return None

    def _batch_request(
        self, name: str, read: ReadEndpoint, param: str, chunk: list[Any]
    ) -> tuple[list[tuple[str, str]], object]:
        """The values of one batch: as query parameters, or as a JSON list in the body."""
        if read.values == "json":
            return [], {param: chunk}
        texts = [_text(value) for value in chunk]
        if read.values == "repeat":
            return [(param, text) for text in texts], _NO_BODY
        if any("," in text for text in texts):
            # The value itself stays out of the message: it may be a name or an address.
            raise ConnectorError(
                f"read of {name!r}: a value holds a comma, which the comma-joined parameter "
                f"{param!r} cannot carry (use values: repeat or json)",
                datastore=self.name,
            )
        return [(param, ",".join(texts))], _NO_BODY

    def _next_link(self, name: str, response: httpx.Response) -> httpx.URL | None:
        target = response.links.get("next", {}).get("url")
        if not target:
            return None
        url = response.url.join(target)
        if _origin(url) != self._origin:
            # Following it would send the credentials (and the values) to another host.
            raise ConnectorError(
                f"read of {name!r}: the next-page link points to another host; not followed",
                datastore=self.name,
            )
        return url

    # -- writes -----------------------------------------------------------------------------

    def _write(
        self,
        operation: str,
        name: str,
        endpoint: WriteEndpoint,
        key_field: str,
        items: Sequence[tuple[Any, dict[str, Any] | None]],
    ) -> int:
        if endpoint.per_key:
            return sum(self._write_one(operation, name, endpoint, *item) for item in items)
        changed = 0
        for chunk in _chunks(items, endpoint.batch_size, distinct=False):
            body = [_item(key_field, key, changes) for key, changes in chunk]
            response = self._call(operation, repr(name), endpoint.method, endpoint.path, body=body)
            changed += self._count(response, operation, name, endpoint, len(chunk))
        return changed

    def _write_one(
        self,
        operation: str,
        name: str,
        endpoint: WriteEndpoint,
        key: Any,
        changes: dict[str, Any] | None,
    ) -> int:
        """One row through a per-key endpoint; a 404 means the row is not there (0 changed)."""
        path = endpoint.path.replace(KEY_PLACEHOLDER, self._segment(name, key))
        body: object = _NO_BODY if changes is None else changes
        response = self._call(
            operation, repr(name), endpoint.method, path, body=body, missing_ok=True
        )
        if response.status_code == 404:
            return 0
        return self._count(response, operation, name, endpoint, 1)

    def _segment(self, name: str, key: Any) -> str:
        text = _text(key)
        if text in ("", ".", ".."):
            # Such a key would name the collection or its parent, not a row.
            raise ConnectorError(
                f"a key of {name!r} is empty or a dot segment and cannot name a row in a path",
                datastore=self.name,
            )
        return quote(text, safe="")

    def _count(
        self,
        response: httpx.Response,
        operation: str,
        name: str,
        endpoint: WriteEndpoint,
        accepted: int,
    ) -> int:
        if endpoint.changed_at is None:
            return accepted
        count = _at(self._json(response, operation, name), endpoint.changed_at)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ConnectorError(
                f"the answer to {operation} of {name!r} has no count at {endpoint.changed_at!r}",
                datastore=self.name,
            )
        return count

    # -- the wire ---------------------------------------------------------------------------

    def _call(
        self,
        operation: str,
        target: str,
        method: str,
        url: str | httpx.URL,
        *,
        params: httpx.QueryParams | None = None,
        body: object = _NO_BODY,
        missing_ok: bool = False,
    ) -> httpx.Response:
        """One request, retried with back-off while the failure may pass.

        Writes are retried too: they set values or remove keys, so a repeat changes nothing
        more. When an answer was lost after the API applied a write, the retry reports 0 for
        it, so a count may be lower than what changed; never higher.

        Errors are raised from None: httpx's exceptions carry the URL, whose query may hold
        the identities being looked up.
        """
        content = None if body is _NO_BODY else self._encode(body, operation, target)
        headers = {"Content-Type": "application/json"} if content is not None else None
        attempts = self.config.retries.count + 1
        for attempt in range(1, attempts + 1):
            self._pace()
            retry_after: float | None = None
            try:
                response = self._client.request(
                    method, url, params=params, content=content, headers=headers
                )
            except httpx.TimeoutException:
                problem = "timed out"
            except httpx.ConnectError:
                problem = "could not connect"
            except (httpx.NetworkError, httpx.RemoteProtocolError):
                problem = "the connection was lost"
            except httpx.HTTPError as error:
                raise ConnectorError(
                    f"{operation} of {target} failed: {type(error).__name__}", datastore=self.name
                ) from None
            else:
                if response.is_success or (missing_ok and response.status_code == 404):
                    return response
                if not _transient(response.status_code):
                    raise self._refused(operation, target, response.status_code)
                problem, retry_after = _status(response.status_code), _retry_after(response)
            if attempt < attempts:
                delay = self._backoff(attempt, retry_after)
                logger.warning(
                    "%s: %s of %s: %s; retrying in %.2fs (attempt %d of %d)",
                    *(self.name, operation, target, problem, delay, attempt + 1, attempts),
                )
                self._sleep(delay)
        raise ConnectorError(
            f"{operation} of {target} failed: {problem} after {attempts} attempt(s)",
            datastore=self.name,
            retryable=True,
        )

    def _refused(self, operation: str, target: str, status: int) -> ConnectorError:
        """A refusal another try will not change; the status, never the body, is quoted."""
        if status in (401, 403):
            reason = f"the API did not accept the credentials ({_status(status)})"
        elif status == 404:
            reason = f"the API has no such endpoint ({_status(status)})"
        elif 300 <= status < 400:
            reason = f"unexpected redirect ({_status(status)}); check base_url"
        else:
            reason = f"refused ({_status(status)})"
        return ConnectorError(f"{operation} of {target}: {reason}", datastore=self.name)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        retries = self.config.retries
        if retry_after is not None:
            return min(retry_after, retries.backoff_max_seconds)
        return min(retries.backoff_base_seconds * 2.0 ** (attempt - 1), retries.backoff_max_seconds)

    def _pace(self) -> None:
        """Wait so that requests keep to `rate_limit_per_second`, retries included."""
        rate = self.config.rate_limit_per_second
        if rate is None:
            return
        now = self._clock()
        if self._last_request is not None:
            wait = self._last_request + 1 / rate - now
            if wait > 0:
                self._sleep(wait)
                now += wait
        self._last_request = now

    def _encode(self, body: object, operation: str, target: str) -> bytes:
        try:
            return json.dumps(body, default=_json_value, separators=(",", ":")).encode()
        except (TypeError, ValueError):
            raise ConnectorError(
                f"{operation} of {target}: a value cannot be sent as JSON", datastore=self.name
            ) from None

    def _json(self, response: httpx.Response, operation: str, name: str) -> object:
        if not response.content:
            return None
        try:
            # Amounts stay exact: JSON numbers with a fraction become Decimals, as SQL gives.
            return json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise ConnectorError(
                f"the answer to {operation} of {name!r} is not JSON", datastore=self.name
            ) from None

    def _credentials(
        self, secrets: Mapping[str, str]
    ) -> tuple[dict[str, str], httpx.BasicAuth | None]:
        auth = self.config.auth

        def secret(name: str, field: str) -> str:
            value = secrets.get(name)
            if not value:
                raise ConnectorError(
                    f"the secret {name!r} named by auth.{field} was not provided",
                    datastore=self.name,
                )
            return value

        if isinstance(auth, BearerAuth):
            return {"Authorization": f"Bearer {secret(auth.token_secret, 'token_secret')}"}, None
        if isinstance(auth, BasicAuth):
            password = secret(auth.password_secret, "password_secret")
            return {}, httpx.BasicAuth(auth.username, password)
        if isinstance(auth, ApiKeyAuth):
            return {auth.header: secret(auth.key_secret, "key_secret")}, None
        return {}, None


@dataclass(frozen=True)
class _Page:
    """Where one page of a batch is: the URL, the batch's query, the page number or cursor."""

    url: str | httpx.URL
    query: list[tuple[str, str]]
    number: int
    cursor: str | None = None

    def params(
        self, paging: NoPagination | PagePagination | CursorPagination | LinkPagination
    ) -> httpx.QueryParams | None:
        extra: list[tuple[str, str]] = []
        if isinstance(paging, PagePagination):
            extra = [(paging.param, str(self.number))]
        elif isinstance(paging, CursorPagination) and self.cursor is not None:
            extra = [(paging.param, self.cursor)]
        # None, not empty: httpx replaces a URL's query (a next link's) with any params given.
        return httpx.QueryParams(tuple(self.query + extra)) if self.query or extra else None

    def next(self, *, number: int = 0, cursor: str | None = None) -> _Page:
        return _Page(self.url, self.query, number, cursor)


# --- helpers -----------------------------------------------------------------------------------


def _distinct(values: Sequence[Any]) -> list[Any]:
    # None matches nothing (as in SQL); duplicates would only lengthen the request.
    return list(dict.fromkeys(value for value in values if value is not None))


def _chunks(values: Sequence[Any], size: int, *, distinct: bool = True) -> Iterator[list[Any]]:
    items = _distinct(values) if distinct else list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _item(key_field: str, key: Any, changes: dict[str, Any] | None) -> dict[str, Any]:
    item: dict[str, Any] = {"key": {key_field: key}}
    if changes is not None:
        item["changes"] = changes
    return item


def _at(payload: object, path: str) -> object:
    """The value at a dotted path of a JSON document, or _MISSING."""
    current = payload
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _text(value: Any) -> str:
    """A value as a query parameter or path segment."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime | time_of_day):
        return value.isoformat()
    return str(value)


def _json_value(value: object) -> object:
    """JSON for the values a datastore row holds beyond JSON's own types."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime | time_of_day):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(type(value).__name__)


def _fill(template: JsonValue, values: Mapping[str, str]) -> Any:
    """The opt-out body: placeholders filled in; members naming a missing identity left out."""
    if isinstance(template, str):
        names = _PLACEHOLDER.findall(template)
        if any(name not in values for name in names):
            return _MISSING
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            return values[whole.group(1)]
        return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)
    if isinstance(template, dict):
        filled = {key: _fill(value, values) for key, value in template.items()}
        return {key: value for key, value in filled.items() if value is not _MISSING}
    if isinstance(template, list):
        return [
            value for value in (_fill(item, values) for item in template) if value is not _MISSING
        ]
    return template


def _transient(status: int) -> bool:
    # Throttled or a server-side failure: another try may succeed.
    return status == 429 or status >= 500


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (429 and 503 only), or None."""
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _status(code: int) -> str:
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def _describe(url: httpx.URL) -> str:
    """A name for messages: the host (and port); never a path or credentials."""
    return f"{url.host}:{url.port}" if url.port else url.host


__all__ = ["HttpConnector", "HttpConnectorConfig"]
