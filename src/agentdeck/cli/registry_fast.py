"""``versions NAME``, ``show REF`` (``name`` or ``name@N``) and ``policy versions NAME`` without
Typer, pydantic or SQLAlchemy: fast read paths of :mod:`.fast` (which says when they step
aside). They read through :mod:`agentdeck.store.lite_registry` and print through the full
commands' renderer (:mod:`.registry_render`) and serializers
(:mod:`agentdeck.records.versions_json`). tests/cli/test_fast_reads.py compares both paths."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentdeck.cli.fast import agent_named, command_line, read_store

if TYPE_CHECKING:
    import sqlite3

    from agentdeck.core.spec.artifacts import AgentVersion

__all__ = ["try_policy_versions", "try_show", "try_versions"]

_VALUED = {"--db": "db"}
_FLAGS = {"--json": "json"}


def try_versions(argv: list[str]) -> bool:
    """``agentdeck versions ARGV`` (True: printed; False: nothing printed)."""
    line = command_line(argv, _VALUED, _FLAGS, 1)
    if line is None:
        return False
    parsed, path = line
    from agentdeck.store.lite_projects import in_default_project
    from agentdeck.store.lite_registry import list_agent_versions

    (name,) = parsed.args
    owner_of = agent_named(name)
    if owner_of is None:
        return False

    def read(conn: sqlite3.Connection) -> list[AgentVersion] | None:
        return list_agent_versions(conn, name) if in_default_project(conn, owner_of) else None

    versions = read_store(path, read)
    if not versions:
        return False  # the full command says there is no such agent
    if parsed.opts.get("json"):
        from agentdeck.cli.console import print_json
        from agentdeck.records.versions_json import agent_version_json

        print_json([agent_version_json(v) for v in versions])
        return True
    from agentdeck.cli.registry_render import print_agent_versions

    print_agent_versions(name, versions)
    return True


def try_show(argv: list[str]) -> bool:
    """``agentdeck show ARGV`` for a reference ``name`` or ``name@N``."""
    line = command_line(argv, _VALUED, _FLAGS, 1)
    if line is None:
        return False
    parsed, path = line
    from agentdeck.core.errors import AgentDeckError
    from agentdeck.core.spec.refs import parse_ref

    try:
        ref = parse_ref(parsed.args[0])
    except AgentDeckError:
        return False
    if ref.digest is not None or ref.env is not None:
        return False
    from agentdeck.store.lite_projects import in_default_project
    from agentdeck.store.lite_registry import get_agent_version, list_agent_versions

    def read(conn: sqlite3.Connection) -> AgentVersion | None:
        if not in_default_project(conn, ref.name):
            return None
        if ref.version is not None:
            return get_agent_version(conn, ref.name, ref.version)
        return next(reversed(list_agent_versions(conn, ref.name)), None)

    av = read_store(path, read)
    if av is None:
        return False  # the full command says what is missing
    if parsed.opts.get("json"):
        from agentdeck.cli.console import print_json
        from agentdeck.records.versions_json import agent_version_json

        print_json(agent_version_json(av, spec=True))
        return True
    from agentdeck.cli.registry_render import print_agent_version

    print_agent_version(av)
    return True


def try_policy_versions(argv: list[str]) -> bool:
    """``agentdeck policy versions ARGV``."""
    line = command_line(argv, _VALUED, _FLAGS, 1)
    if line is None:
        return False
    parsed, path = line
    from agentdeck.store.lite_registry import list_policy_versions

    (name,) = parsed.args
    # (the full command reads policies of every project)
    versions = read_store(path, lambda conn: list_policy_versions(conn, name))
    if versions is None:
        return False
    if parsed.opts.get("json"):
        from agentdeck.cli.console import print_json
        from agentdeck.records.versions_json import policy_version_json

        print_json([policy_version_json(p) for p in versions])
        return True
    from agentdeck.cli.registry_render import print_policy_versions

    print_policy_versions(name, versions)
    return True
