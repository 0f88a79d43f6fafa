"""Runs with sessions and users, recorded through the SDK into a store, for the tests that
show or filter them (CLI, API, web UI): ``a1`` and ``a2`` in session ``conv-a`` of user
``alice``, ``b1`` in ``conv-b`` of ``bob``, ``none`` with neither."""

from __future__ import annotations

from pathlib import Path

from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk


def record_session_runs(store: SqlStore, tmp_path: Path) -> dict[str, str]:
    """Record the four runs (module docstring); their trace ids by name."""
    ids: dict[str, str] = {}
    sdk.init(sink=store, spill_dir=tmp_path / "spill", schedule_delay=0.02)
    try:
        for name, session, user in (
            ("a1", "conv-a", "alice"),
            ("a2", "conv-a", "alice"),
            ("b1", "conv-b", "bob"),
            ("none", None, None),
        ):
            with sdk.run("support-bot", input=name, session_id=session, user_id=user) as r:
                pass
            ids[name] = r.trace_id
        assert sdk.flush(10)
    finally:
        sdk.shutdown(timeout=10)
    return ids
