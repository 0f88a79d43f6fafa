"""``agentdeck history NAME --env ENV`` (the lines and ``--json``) without Typer, pydantic or
SQLAlchemy: a fast read path of :mod:`.fast` (which says when they step aside). It reads
through :mod:`agentdeck.store.lite_deploy` what the full command reads through the deployments
and canary services (the promotion path, the deployments, the canary's audit entries) and
prints through the same renderer (:mod:`.deploy_render`) and serializer. tests/cli/
test_fast_reads.py compares both paths."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentdeck.cli.fast import agent_named, command_line, read_store

if TYPE_CHECKING:
    import sqlite3

    from agentdeck.core.deploy.audit_chain import AuditEntry
    from agentdeck.core.deploy.model import Deployment

__all__ = ["try_history"]

_VALUED = {"--db": "db", "--env": "env", "-e": "env"}


def try_history(argv: list[str]) -> bool:
    """``agentdeck history ARGV`` (True: printed; False: nothing printed)."""
    line = command_line(argv, _VALUED, {"--json": "json"}, 1)
    if line is None or line[0].opts.get("env") is None:
        return False
    parsed, path = line
    from agentdeck.registry.canary_events import canary_entries_of, canary_events
    from agentdeck.store.lite_deploy import audit_entries, history, promotion_path
    from agentdeck.store.lite_projects import in_default_project

    (name,), env = parsed.args, parsed.opts["env"]
    owner_of = agent_named(name)
    if owner_of is None:
        return False

    def read(conn: sqlite3.Connection) -> tuple[list[Deployment], list[AuditEntry]] | None:
        if not in_default_project(conn, owner_of):
            return None
        if env not in promotion_path(conn):
            return None  # the full command names the environments
        if parsed.opts.get("json"):
            return history(conn, name, env), []
        return history(conn, name, env), audit_entries(conn, *canary_entries_of(name, env))

    got = read_store(path, read)
    if got is None:
        return False
    deps, events = got
    if parsed.opts.get("json"):
        from agentdeck.cli.console import print_json
        from agentdeck.records.versions_json import deployment_json

        print_json([deployment_json(d) for d in deps])
        return True
    from agentdeck.cli.console import console

    if not deps and not events:
        console.print(f"nothing of {name} has been deployed in {env}")
        return True
    from agentdeck.cli.deploy_render import print_history

    print_history(f"{name} in {env}", deps, canary_events(events))
    return True
