"""The heads of the migration scripts, read from the files' ``revision``/``down_revision`` lines
without importing Alembic or SQLAlchemy (:mod:`.migrate` compares them with a store's revisions;
the CLI's SQLite read path, :mod:`.lite_run_list`, reads only a store at these heads)."""

from __future__ import annotations

import functools
import re
from importlib import resources

__all__ = ["script_heads", "script_location"]

_REV = re.compile(r'^revision\s*=\s*["\']([^"\']+)["\']', re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(.+)$", re.M)


def script_location() -> str:
    return str(resources.files("agentdeck.store").joinpath("migrations"))


@functools.cache
def script_heads() -> frozenset[str]:
    """Revisions that no other migration revises."""
    revisions: set[str] = set()
    revised: set[str] = set()
    versions = resources.files("agentdeck.store").joinpath("migrations", "versions")
    for entry in versions.iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("__"):
            continue
        body = entry.read_text("utf-8")
        rev = _REV.search(body)
        down = _DOWN.search(body)
        if rev is None:
            continue
        revisions.add(rev.group(1))
        if down is not None:
            revised.update(re.findall(r'["\']([^"\']+)["\']', down.group(1)))
    return frozenset(revisions - revised)
