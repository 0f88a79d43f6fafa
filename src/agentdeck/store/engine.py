"""The one module that knows SQL dialects: engine creation, SQLite pragmas, dialect-specific SQL.

SQLite (embedded default): WAL journal, ``synchronous=NORMAL``, a busy timeout, foreign keys
on; write transactions begin with ``BEGIN IMMEDIATE`` so that concurrent writers queue on the
lock instead of failing on upgrade. PostgreSQL (team backend) through psycopg 3.
Nothing else in agentdeck says "sqlite" or "postgresql".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.engine import Connection, Engine, create_engine, make_url
from sqlalchemy.sql.dml import Insert

from agentdeck.core.errors import StoreError
from agentdeck.settings import is_set

DEFAULT_DIR = ".agentdeck"
DEFAULT_FILE = "agentdeck.db"


def default_database_url(cwd: Path | None = None) -> str:
    """``AGENTDECK_DATABASE_URL``, else SQLite at ``.agentdeck/agentdeck.db`` under ``cwd``."""
    # Only a set variable needs the settings catalogue (pydantic-settings: CLI start-up time).
    if is_set("AGENTDECK_DATABASE_URL"):
        from agentdeck.settings.env import StoreEnv, read

        url = read(StoreEnv).database_url
        if url:
            return url
    base = (cwd or Path.cwd()) / DEFAULT_DIR
    return f"sqlite:///{base / DEFAULT_FILE}"


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def create_store_engine(url: str, *, schema: str | None = None, echo: bool = False) -> Engine:
    """An engine for ``url`` with the dialect's settings applied.

    ``schema`` (PostgreSQL only) sets the connection's ``search_path``, so tests and tenants can
    keep their tables in a schema of their own.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise StoreError(f"AGENTDECK_DATABASE_URL: not a database URL ({exc})") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database, echo)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        connect_args: dict[str, Any] = {"connect_timeout": 5}
        if schema:
            connect_args["options"] = f"-csearch_path={schema}"
        return create_engine(
            parsed,
            echo=echo,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=20,
            connect_args=connect_args,
        )
    raise StoreError(
        f"AGENTDECK_DATABASE_URL: unsupported backend {backend!r} (use sqlite or postgresql)"
    )


def _sqlite_engine(url: str, database: str | None, echo: bool) -> Engine:
    if database and database != ":memory:":
        try:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the directory of {database}: {exc.strerror or exc}"
            ) from None
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so BEGIN can be IMMEDIATE for writers.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("agentdeck_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def insert_ignore(conn: Connection, table: Table) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the connection's dialect (idempotent writes)."""
    if is_sqlite(conn):  # each dialect imported by the backend that needs it
        from sqlalchemy.dialects import sqlite as sqlite_dialect

        return sqlite_dialect.insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects import postgresql as pg_dialect

    return pg_dialect.insert(table).on_conflict_do_nothing()


def lock_row_clause(conn: Connection) -> bool:
    """Whether ``SELECT ... FOR UPDATE`` is meaningful (SQLite serializes writers by BEGIN IMMEDIATE)."""
    return not is_sqlite(conn)


def advisory_lock(conn: Connection, key: int) -> None:
    """Serialize a critical section across processes (PostgreSQL); SQLite's write lock already does."""
    if not is_sqlite(conn):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({int(key)})")


def insert_ignore_sql(conn: Connection, table: Table) -> str:
    """Driver-level ``INSERT``-or-ignore for positional tuples, for bulk writes on hot paths
    (skips SQLAlchemy's per-row parameter processing)."""
    cols = ", ".join(c.name for c in table.columns)
    if is_sqlite(conn):
        marks = ", ".join("?" for _ in table.columns)
        return f"INSERT OR IGNORE INTO {table.name} ({cols}) VALUES ({marks})"
    marks = ", ".join("%s" for _ in table.columns)
    return f"INSERT INTO {table.name} ({cols}) VALUES ({marks}) ON CONFLICT DO NOTHING"


def param_mark(conn: Connection) -> str:
    """The driver's positional parameter marker, for driver-level SQL."""
    return "?" if is_sqlite(conn) else "%s"


def upsert_sql(conn: Connection, table: Table, assignments: Mapping[str, str], where: str) -> str:
    """Driver-level ``INSERT`` of positional tuples that, when the primary key is taken, runs
    ``UPDATE SET column = expression, ... WHERE where`` on the existing row instead (and does
    nothing when ``where`` is false). In the expressions the existing row is ``<table name>``
    and the new one ``excluded``: the same syntax on SQLite (3.24+) and PostgreSQL, so only
    the parameter marker differs. The expressions must not contain the marker."""
    cols = ", ".join(c.name for c in table.columns)
    marks = ", ".join(param_mark(conn) for _ in table.columns)
    keys = ", ".join(c.name for c in table.primary_key.columns)
    sets = ", ".join(f"{col} = {expr}" for col, expr in assignments.items())
    return (
        f"INSERT INTO {table.name} ({cols}) VALUES ({marks}) "
        f"ON CONFLICT ({keys}) DO UPDATE SET {sets} WHERE {where}"
    )
