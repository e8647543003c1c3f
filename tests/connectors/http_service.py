"""A small shop API for the HTTP connector tests: real HTTP on 127.0.0.1, data in memory.

It behaves like the APIs the connector is configured for:

- `GET /{collection}?field=a,b` (or `?field=a&field=b`) and `POST /{collection}/search` with
  `{"field": [a, b]}`: the rows whose field is one of the values, in `data.items`, paginated
  the way `pagination` says (`page`, `cursor` in `meta.next_cursor`, `link` header, `none`);
- `POST /{collection}/batch-update` with `[{"key": {field: value}, "changes": {...}}]` and
  `POST /{collection}/batch-delete` with `[{"key": {field: value}}]`, answering how many rows
  changed (`changed`, `deleted`): rows already holding the values do not count, so a re-run
  reports 0, as a real API (or SQL) would;
- `PATCH /{collection}/{id}` and `DELETE /{collection}/{id}`, one row each (404 when absent);
- a delete that would leave orders pointing at a missing customer is refused whole (409);
- `POST /opt-outs`, recorded in `opt_outs`;
- bearer-token auth on every route (401 without), `GET /health` and `GET /`.

Fault switches: `fail_next` (answer a status, with `Retry-After` if asked), `hang_next` (wait
past the client's timeout), `stop` and `start` (refuse connections, then serve again on the
same port). Every request is kept in `requests`, and in `statements` as a line starting with
the SQL verb it stands for (SELECT, UPDATE, DELETE), so that the conformance suite counts
requests as it counts statements.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

Row = dict[str, Any]
Answer = tuple[int, object, dict[str, str]]

# child collection -> (its field, parent collection, parent field): deletes may not orphan.
REFERENCES = {"orders": ("customer_id", "customers", "id")}
CONTROL_PARAMS = {"page", "per_page", "cursor", "limit"}
MAX_PAGE_SIZE = 1000
HANG_LIMIT_SECONDS = 10


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Seen:
    """One request as the service received it."""

    verb: str
    method: str
    target: str  # as sent: path and percent-encoded query
    headers: dict[str, str]
    body: Any

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.target).query, keep_blank_values=True)


@dataclass(frozen=True)
class Fault:
    status: int | None  # None: hang
    retry_after: str | None = None


@dataclass
class ShopService:
    """The service and its switches; `reset` between tests, `start`/`stop` around a session."""

    token: str | None = "shop-api-token"
    pagination: str = "cursor"
    split_commas: bool = True
    link_prefix: str = ""  # an absolute prefix for next links (to test a foreign host)
    tables: dict[str, list[Row]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    opt_outs: list[Any] = field(default_factory=list)
    port: int = 0
    _faults: deque[Fault] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle and switches -------------------------------------------------------------

    def start(self) -> None:
        """Serve (again) on the same port, so a connector configured before still reaches it."""
        if self._server is not None:
            return
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.service = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket: new connections are refused until `start`."""
        self._unhang()
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server, self._thread = None, None

    def reset(self, tables: dict[str, list[Row]]) -> None:
        self.start()
        self._unhang()
        with self._lock:
            self.tables = {name: [dict(row) for row in rows] for name, rows in tables.items()}
            self.requests.clear()
            self.statements.clear()
            self.opt_outs.clear()
            self._faults.clear()
        self.token = "shop-api-token"
        self.pagination, self.split_commas, self.link_prefix = "cursor", True, ""

    def fail_next(self, count: int, status: int = 500, retry_after: str | None = None) -> None:
        self._faults.extend(Fault(status, retry_after) for _ in range(count))

    def hang_next(self, count: int) -> None:
        self._faults.extend(Fault(None) for _ in range(count))

    def sent(self, verb: str) -> list[Seen]:
        return [seen for seen in self.requests if seen.verb == verb]

    def __enter__(self) -> ShopService:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _unhang(self) -> None:
        self._release.set()
        self._release = threading.Event()

    # -- what a request does ----------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        split = urlsplit(target)
        parts = [unquote(part) for part in split.path.split("/") if part]
        try:
            body = json.loads(raw, parse_float=Decimal) if raw else None
        except ValueError:
            return 400, {"error": "the body is not JSON"}, {}
        route, verb = self._route(method, parts)
        seen = Seen(verb, method, target, headers, body)
        self.requests.append(seen)
        self.statements.append(f"{verb} {method} {target}")
        fault = self._faults.popleft() if self._faults else None
        if fault is not None:
            return self._fault(fault)
        if self.token is not None and headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "unauthorized"}, {"WWW-Authenticate": "Bearer"}
        if route is None:
            return 404, {"error": "no such endpoint"}, {}
        try:
            with self._lock:
                return route(parts, seen)
        except Refused as refused:
            return refused.status, {"error": str(refused)}, {}

    def _fault(self, fault: Fault) -> Answer:
        if fault.status is None:
            self._release.wait(HANG_LIMIT_SECONDS)
            return 504, {"error": "hung"}, {}
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        return fault.status, {"error": "injected fault"}, headers

    def _route(self, method: str, parts: list[str]) -> tuple[Callable[..., Answer] | None, str]:
        if method == "GET" and parts in ([], ["health"]):
            return self._health, "HEALTH"
        if method == "POST" and parts == ["opt-outs"]:
            return self._opt_out, "OPT-OUT"
        collection = parts[0] if parts else ""
        routes: dict[tuple[str, int, str], tuple[Callable[..., Answer], str]] = {
            ("GET", 1, ""): (self._read, "SELECT"),
            ("POST", 2, "search"): (self._read, "SELECT"),
            ("POST", 2, "batch-update"): (self._batch_update, "UPDATE"),
            ("POST", 2, "batch-delete"): (self._batch_delete, "DELETE"),
            ("PATCH", 2, "*"): (self._update_one, "UPDATE"),
            ("DELETE", 2, "*"): (self._delete_one, "DELETE"),
        }
        action = parts[1] if len(parts) == 2 else ""
        found = routes.get((method, len(parts), action)) or routes.get((method, len(parts), "*"))
        if found is None or collection not in self.tables:
            return None, found[1] if found else "OTHER"
        return found

    def _health(self, _parts: list[str], _seen: Seen) -> Answer:
        return 200, {"status": "ok"}, {}

    def _opt_out(self, _parts: list[str], seen: Seen) -> Answer:
        self.opt_outs.append(seen.body)
        return 202, {"accepted": True}, {}

    # -- reads ------------------------------------------------------------------------------

    def _read(self, parts: list[str], seen: Seen) -> Answer:
        rows = self.tables[parts[0]]
        if seen.method == "POST":
            wanted = self._typed_filters(rows, seen.body)
            matching = [row for row in rows if all(row[f] in vs for f, vs in wanted.items())]
        else:
            texts = self._text_filters(rows, seen.query)
            matching = [row for row in rows if all(_text(row[f]) in vs for f, vs in texts.items())]
        return self._paginate(matching, seen)

    def _typed_filters(self, rows: list[Row], body: object) -> dict[str, list[Any]]:
        if not isinstance(body, dict) or not all(isinstance(v, list) for v in body.values()):
            raise Refused(400, "the body must map fields to lists of values")
        self._check_fields(rows, body)
        return body

    def _text_filters(self, rows: list[Row], query: list[tuple[str, str]]) -> dict[str, set[str]]:
        wanted: dict[str, set[str]] = {}
        for name, value in query:
            if name in CONTROL_PARAMS:
                continue
            values = value.split(",") if self.split_commas else [value]
            wanted.setdefault(name, set()).update(values)
        self._check_fields(rows, wanted)
        return wanted

    def _paginate(self, rows: list[Row], seen: Seen) -> Answer:
        params = dict(seen.query)
        if self.pagination == "none":
            return 200, {"data": {"items": rows}}, {}
        if self.pagination == "cursor":
            size = _number(params.get("limit"), 100)
            start = _number(params.get("cursor", "c0").lstrip("c"), 0)
            following = f"c{start + size}" if start + size < len(rows) else None
            page = rows[start : start + size]
            return 200, {"data": {"items": page}, "meta": {"next_cursor": following}}, {}
        size = _number(params.get("per_page"), 100)
        number = _number(params.get("page"), 1)
        page = rows[(number - 1) * size : number * size]
        headers: dict[str, str] = {}
        if self.pagination == "link" and number * size < len(rows):
            query = [(k, v) for k, v in seen.query if k != "page"] + [("page", str(number + 1))]
            link = f"{self.link_prefix}{seen.path}?{urlencode(query)}"
            headers["Link"] = f'<{link}>; rel="next"'
        return 200, {"data": {"items": page}}, headers

    # -- writes -----------------------------------------------------------------------------

    def _batch_update(self, parts: list[str], seen: Seen) -> Answer:
        rows = self.tables[parts[0]]
        items = self._items(rows, seen.body, with_changes=True)
        changed = 0
        for key, changes in items:
            for row in self._matching(rows, key):
                changed += _apply(row, changes)
        return 200, {"changed": changed}, {}

    def _batch_delete(self, parts: list[str], seen: Seen) -> Answer:
        rows = self.tables[parts[0]]
        items = self._items(rows, seen.body, with_changes=False)
        doomed = [row for key, _ in items for row in self._matching(rows, key)]
        return 200, {"deleted": self._remove(parts[0], doomed)}, {}

    def _update_one(self, parts: list[str], seen: Seen) -> Answer:
        rows = self.tables[parts[0]]
        if not isinstance(seen.body, dict):
            raise Refused(400, "the body must be an object of changes")
        self._check_fields(rows, seen.body)
        found = self._matching(rows, {"id": parts[1]}, as_text=True)
        if not found:
            raise Refused(404, "no such row")
        return 200, {"changed": sum(_apply(row, seen.body) for row in found)}, {}

    def _delete_one(self, parts: list[str], _seen: Seen) -> Answer:
        found = self._matching(self.tables[parts[0]], {"id": parts[1]}, as_text=True)
        if not found:
            raise Refused(404, "no such row")
        return 200, {"deleted": self._remove(parts[0], found)}, {}

    def _remove(self, collection: str, doomed: list[Row]) -> int:
        """Delete all of `doomed` or, when a child row still points at one, none of them."""
        gone = {id(row) for row in doomed}
        for child, (child_field, parent, parent_field) in REFERENCES.items():
            if parent != collection:
                continue
            keys = {row[parent_field] for row in doomed}
            if any(row[child_field] in keys for row in self.tables.get(child, [])):
                raise Refused(409, f"{child} still refer to these {collection}")
        self.tables[collection] = [row for row in self.tables[collection] if id(row) not in gone]
        return len(gone)

    def _items(
        self, rows: list[Row], body: object, *, with_changes: bool
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        if not isinstance(body, list):
            raise Refused(400, "the body must be a list of items")
        items = []
        for item in body:
            key = item.get("key") if isinstance(item, dict) else None
            changes = item.get("changes", {}) if isinstance(item, dict) else None
            if not isinstance(key, dict) or len(key) != 1 or not isinstance(changes, dict):
                raise Refused(400, "each item needs a key of one field (and changes)")
            if with_changes and not changes:
                raise Refused(400, "an update item needs changes")
            self._check_fields(rows, {**key, **changes})
            items.append((key, changes))
        return items

    @staticmethod
    def _matching(rows: list[Row], key: dict[str, Any], *, as_text: bool = False) -> list[Row]:
        ((name, value),) = key.items()
        if as_text:
            return [row for row in rows if _text(row[name]) == value]
        return [row for row in rows if row[name] == value and type(row[name]) is type(value)]

    @staticmethod
    def _check_fields(rows: list[Row], names: dict[str, Any]) -> None:
        known = set(rows[0]) if rows else set(names)
        unknown = sorted(set(names) - known)
        if unknown:
            raise Refused(400, f"unknown fields {unknown}")


def _apply(row: Row, changes: dict[str, Any]) -> int:
    """1 when the row changed; values it already holds change nothing."""
    if all(row.get(name) == value for name, value in changes.items()):
        return 0
    row.update(changes)
    return 1


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(text: str | None, default: int) -> int:
    if text is None:
        return default
    if not text.isdigit():
        raise Refused(400, "a paging parameter is not a number")
    return min(int(text), MAX_PAGE_SIZE * 1000)


def _encode(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    service: ShopService


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one connection per request, so `stop` refuses the very next one.
    protocol_version = "HTTP/1.0"
    server: _Server

    # The service routes by method itself (`ShopService.handle`).
    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PATCH(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, payload, extra = self.server.service.handle(self.command, self.path, headers, raw)
        content = json.dumps(payload, default=_encode).encode()
        with suppress(OSError):  # the client may have given up (timeouts)
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **extra}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request lines carry the identities being looked up."""
