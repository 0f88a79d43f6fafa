"""The heads of the migration scripts, read from the files' ``revision``/``down_revision`` lines
without importing Alembic or SQLAlchemy (:mod:`.migrate` compares them with a store's revisions;
the CLI's SQLite read paths, :mod:`.lite`, read only a store at these heads)."""

from __future__ import annotations

import functools
import os
import re

__all__ = ["script_heads", "script_location"]

_REV = re.compile(r'^revision\s*=\s*["\']([^"\']+)["\']', re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(.+)$", re.M)


def script_location() -> str:
    """The migration scripts' directory (a plain directory of the installed package: Alembic
    reads it from the file system too)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")


@functools.cache
def script_heads() -> frozenset[str]:
    """Revisions that no other migration revises."""
    revisions: set[str] = set()
    revised: set[str] = set()
    versions = os.path.join(script_location(), "versions")
    for name in os.listdir(versions):
        if not name.endswith(".py") or name.startswith("__"):
            continue
        with open(os.path.join(versions, name), encoding="utf-8") as f:
            body = f.read()
        rev = _REV.search(body)
        down = _DOWN.search(body)
        if rev is None:
            continue
        revisions.add(rev.group(1))
        if down is not None:
            revised.update(re.findall(r'["\']([^"\']+)["\']', down.group(1)))
    return frozenset(revisions - revised)
