"""Running Alembic steps on a test database the way ``migrate.upgrade`` does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from agentdeck.store import migrate as migrate_mod


def alembic(engine: Engine, step: Callable[[Any, str], None], *revisions: str) -> None:
    """Run an Alembic ``upgrade``/``downgrade`` (``step``) to each of ``revisions`` on
    ``engine``, in one transaction."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", migrate_mod.script_location())
    with engine.connect().execution_options(agentdeck_write=True) as conn, conn.begin():
        cfg.attributes["connection"] = conn
        for rev in revisions:
            step(cfg, rev)
