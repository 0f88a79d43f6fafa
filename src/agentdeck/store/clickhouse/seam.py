"""The one connection seam of the ClickHouse trace store, with its two sides.

:class:`ChConnection` is all the trace store asks of ClickHouse: run a statement, run a query
and read its rows (``JSONEachRow``), insert rows. Values travel as ClickHouse query
parameters (``{name:Type}``), never spliced into SQL text.

- :class:`ChdbConnection`: ClickHouse's own engine in this process (PyPI ``chdb-core``),
  for one machine and for the tests: ``chdb://`` (in memory) or ``chdb:///abs/path``.
- :class:`HttpConnection`: a ClickHouse server or cluster through ``clickhouse-connect``
  (HTTP): ``clickhouse://user:password@host:8123/database`` (``clickhouses://`` for TLS).

:func:`connect` parses ``AGENTDECK_TRACES_URL`` and picks the side. Both drivers are imported
only here, and only when a URL names them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from agentdeck.core.errors import InputError, StoreError

__all__ = ["ChConnection", "ChdbConnection", "HttpConnection", "TracesUrl", "connect", "parse_url"]

Params = Mapping[str, Any]


class ChConnection(Protocol):
    def command(self, sql: str, params: Params | None = None) -> None: ...
    def rows(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]: ...
    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class TracesUrl:
    """A parsed ``AGENTDECK_TRACES_URL``."""

    engine: str  # "chdb" | "http"
    database: str
    path: str = ":memory:"  # chdb only
    host: str = "127.0.0.1"
    port: int = 8123
    user: str = "default"
    password: str = ""
    secure: bool = False
    retention_days: int | None = None
    cluster: str | None = None


_SCHEMES = {"chdb": "chdb", "clickhouse+chdb": "chdb", "clickhouse": "http", "clickhouses": "http"}


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _name(what: str, value: str) -> str:
    if not _NAME.fullmatch(value):
        raise InputError(
            f"AGENTDECK_TRACES_URL: {what} must be letters, digits and _, got {value!r}"
        )
    return value


def parse_url(url: str) -> TracesUrl:
    """``clickhouse://[user[:password]@]host[:port][/database][?retention_days=N&cluster=C]``,
    ``clickhouses://...`` (TLS), ``chdb://`` (in memory) or ``chdb:///abs/path`` (also
    ``clickhouse+chdb://``). A bad URL raises :class:`InputError` naming the variable."""
    parts = urlsplit(url)
    engine = _SCHEMES.get(parts.scheme)
    if engine is None:
        raise InputError(
            f"AGENTDECK_TRACES_URL: scheme must be one of {', '.join(sorted(_SCHEMES))}, got {url!r}"
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    retention: int | None = None
    if "retention_days" in query:
        try:
            retention = int(query["retention_days"])
        except ValueError:
            retention = -1
        if retention <= 0:
            raise InputError(
                "AGENTDECK_TRACES_URL: retention_days must be a positive integer, "
                f"got {query['retention_days']!r}"
            )
    database = _name("database", query.get("database", "agentdeck"))
    cluster = _name("cluster", query["cluster"]) if "cluster" in query else None
    if engine == "chdb":
        path = unquote(parts.netloc + parts.path) or ":memory:"
        return TracesUrl("chdb", database, path=path, retention_days=retention)
    secure = parts.scheme == "clickhouses"
    try:
        port = parts.port or (8443 if secure else 8123)
    except ValueError:
        raise InputError(f"AGENTDECK_TRACES_URL: bad port in {url!r}") from None
    return TracesUrl(
        "http",
        _name("database", parts.path.strip("/")) if parts.path.strip("/") else database,
        host=parts.hostname or "127.0.0.1",
        port=port,
        user=unquote(parts.username or "default"),
        password=unquote(parts.password or ""),
        secure=secure,
        retention_days=retention,
        cluster=cluster,
    )


def _json_lines(rows: Sequence[Mapping[str, Any]]) -> bytes:
    return b"\n".join(orjson.dumps(dict(r)) for r in rows) + b"\n"


def _parse(body: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in body.splitlines() if line]


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "'": "\\'"})


def _param_text(value: Any) -> str:
    """A parameter value as ClickHouse parses it (the escaped text form; arrays quoted),
    what clickhouse-connect does itself for the server side."""
    if isinstance(value, list | tuple):
        return "[" + ",".join(f"'{str(v).translate(_ESCAPES)}'" for v in value) + "]"
    return str(value).translate(_ESCAPES) if isinstance(value, str) else str(value)


class ChdbConnection:
    """ClickHouse in-process (``chdb-core``). chDB allows one data path per process: every
    store of the process shares that engine, each in its own database."""

    _shared: ClassVar[dict[str, Any]] = {}
    _shared_lock = threading.Lock()

    def __init__(self, path: str = ":memory:") -> None:
        try:
            import chdb
        except ImportError:
            raise StoreError(
                "AGENTDECK_TRACES_URL names chdb, but chdb-core is not installed "
                "(pip install 'agentdeck[clickhouse]')"
            ) from None
        with self._shared_lock:
            conn = self._shared.get(path)
            if conn is None:
                try:
                    conn = chdb.connect(path)
                except Exception as exc:  # another path already open in this process
                    raise StoreError(f"cannot open chdb at {path}: {exc}") from None
                self._shared[path] = conn
        self._conn = conn
        self._lock = threading.Lock()  # a chdb connection serves one query at a time

    def _query(self, sql: str, fmt: str, params: Params | None) -> Any:
        with self._lock:
            try:
                text = {k: _param_text(v) for k, v in params.items()} if params else None
                return self._conn.query(sql, fmt, params=text)
            except Exception as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                raise StoreError(f"ClickHouse (chdb): {first}") from None

    def command(self, sql: str, params: Params | None = None) -> None:
        self._query(sql, "CSV", params)

    def rows(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        return _parse(self._query(sql, "JSONEachRow", params).bytes())

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            body = _json_lines(rows).decode()
            self._query(f"INSERT INTO {table} FORMAT JSONEachRow\n{body}", "CSV", None)

    def close(self) -> None:
        """The shared engine stays open for the process's other stores."""


class HttpConnection:
    """A ClickHouse server or cluster through ``clickhouse-connect`` (HTTP)."""

    def __init__(self, url: TracesUrl) -> None:
        try:
            import clickhouse_connect
        except ImportError:
            raise StoreError(
                "AGENTDECK_TRACES_URL names a ClickHouse server, but clickhouse-connect is "
                "not installed (pip install 'agentdeck[clickhouse]')"
            ) from None
        try:
            self._client = clickhouse_connect.get_client(
                host=url.host,
                port=url.port,
                username=url.user,
                password=url.password,
                secure=url.secure,
                autogenerate_session_id=False,
            )
        except Exception as exc:
            raise StoreError(
                f"cannot reach ClickHouse at {url.host}:{url.port}: {str(exc).splitlines()[0]}"
            ) from None

    def command(self, sql: str, params: Params | None = None) -> None:
        self._client.command(sql, parameters=dict(params) if params else None)

    def rows(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        body = self._client.raw_query(
            sql, parameters=dict(params) if params else None, fmt="JSONEachRow"
        )
        return _parse(bytes(body))

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self._client.raw_insert(table, insert_block=_json_lines(rows), fmt="JSONEachRow")

    def close(self) -> None:
        self._client.close()


def connect(url: TracesUrl) -> ChConnection:
    if url.engine == "chdb":
        return ChdbConnection(url.path)
    return HttpConnection(url)
