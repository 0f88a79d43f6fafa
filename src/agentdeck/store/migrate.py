"""Apply Alembic migrations on first use.

Opening a store compares the database's revision with :data:`HEAD` (one cheap SELECT) and runs
``alembic upgrade head`` only when they differ, under a lock so that concurrent first uses
do not race. A test checks that :data:`HEAD` is the migration scripts' head.
"""

from __future__ import annotations

from importlib import resources

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from agentdeck.store.engine import advisory_lock

HEAD = "0002"
_LOCK_KEY = 0x61676E74  # "agnt"


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        return row[0] if row else None


def script_location() -> str:
    return str(resources.files("agentdeck.store").joinpath("migrations"))


def upgrade(engine: Engine) -> None:
    """Bring the schema to :data:`HEAD` if it is not there yet."""
    if current_revision(engine) == HEAD:
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", script_location())
    with engine.connect().execution_options(agentdeck_write=True) as conn, conn.begin():
        advisory_lock(conn, _LOCK_KEY)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
