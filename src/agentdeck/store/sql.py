"""The SQL store: SQLite (embedded default) and PostgreSQL behind one class."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from agentdeck.core.errors import StoreError
from agentdeck.store.engine import create_store_engine, default_database_url
from agentdeck.store.migrate import upgrade
from agentdeck.store.sql_annotations import SqlAnnotations
from agentdeck.store.sql_audit import SqlAudit
from agentdeck.store.sql_canary import SqlCanaries
from agentdeck.store.sql_cost import SqlCost
from agentdeck.store.sql_deploy import SqlDeployments
from agentdeck.store.sql_evals import SqlEvals
from agentdeck.store.sql_feedback import SqlFeedback
from agentdeck.store.sql_keys import SqlKeys
from agentdeck.store.sql_lifecycle import SqlLifecycle
from agentdeck.store.sql_monitor import SqlMonitor
from agentdeck.store.sql_policy import SqlPolicy
from agentdeck.store.sql_projects import SqlProjects
from agentdeck.store.sql_registry import SqlRegistry
from agentdeck.store.sql_replay import SqlReplay
from agentdeck.store.sql_traces import SqlTraces


class SqlStore(
    SqlRegistry,
    SqlDeployments,
    SqlAudit,
    SqlTraces,
    SqlKeys,
    SqlMonitor,
    SqlPolicy,
    SqlReplay,
    SqlEvals,
    SqlFeedback,
    SqlCanaries,
    SqlAnnotations,
    SqlLifecycle,
    SqlCost,
    SqlProjects,
):
    """Implements :class:`agentdeck.store.protocol.Store`; migrations applied on first use."""

    def __init__(self, engine: Engine, *, migrate: bool = True) -> None:
        self.engine = engine
        if migrate:
            try:
                upgrade(engine)
            except OperationalError as exc:  # first contact: unreachable server, bad path
                first = str(exc.orig or exc).strip().splitlines()[0]
                raise StoreError(f"cannot open the database {self.url}: {first}") from None

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()


def open_store(
    url: str | None = None, *, cwd: Path | None = None, schema: str | None = None
) -> SqlStore:
    """Open (and migrate, on first use) the store at ``url`` or ``AGENTDECK_DATABASE_URL``;
    with ``AGENTDECK_TRACES_URL`` set, runs and spans go to ClickHouse
    (:class:`~agentdeck.store.clickhouse.CompositeStore`)."""
    from agentdeck.settings import is_set

    engine = create_store_engine(url or default_database_url(cwd), schema=schema)
    if not is_set("AGENTDECK_TRACES_URL"):  # (the catalogue costs CLI start-up time)
        return SqlStore(engine)
    from agentdeck.settings.env import StoreEnv, read

    traces_url = read(StoreEnv).traces_url
    if traces_url:
        from agentdeck.store.clickhouse import open_composite

        return open_composite(engine, traces_url)
    return SqlStore(engine)
