"""Apply Alembic migrations on first use.

Each capability owns a branch of migrations off the tracing revision (``0002``), so the
history can have several heads; ``alembic upgrade heads`` applies them all. Opening a store
compares the database's revisions (one cheap SELECT) with the heads of the scripts (read from
the files' ``revision``/``down_revision`` lines, without importing Alembic) and runs Alembic only
when they differ, under a lock so that concurrent first uses do not race. A test checks that
:func:`script_heads` agrees with Alembic's own view.
"""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from agentdeck.store.engine import advisory_lock
from agentdeck.store.script_heads import script_heads, script_location

__all__ = ["current_revisions", "script_heads", "script_location", "upgrade"]

_LOCK_KEY = 0x61676E74  # "agnt"


def current_revisions(engine: Engine) -> frozenset[str]:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return frozenset()
        return frozenset(
            r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))
        )


def upgrade(engine: Engine) -> None:
    """Bring the schema to every head if it is not there yet."""
    if current_revisions(engine) == script_heads():
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", script_location())
    with engine.connect().execution_options(agentdeck_write=True) as conn, conn.begin():
        advisory_lock(conn, _LOCK_KEY)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
