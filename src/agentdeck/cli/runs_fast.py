"""``agentdeck runs`` (the table and ``--json``) without Typer, pydantic or SQLAlchemy (issue 17:
start-up), one of the fast read paths of :mod:`.fast` (which says when they step aside).

It takes the options of ``runs`` (:func:`.trace_cmds.runs_cmd`) but ``--query`` and
``--project``, answers from the SQLite store through
:func:`~agentdeck.store.lite_run_list.find_runs_in`, and prints what the full command prints,
through the same renderer (:func:`.runs_render.runs_table`) and serializer (``run_json``).
tests/cli/test_runs_fast_path.py compares both paths' output.
"""

from __future__ import annotations

import re
import sys

from agentdeck.cli.fast import parse, store_path

__all__ = ["try_runs"]

_VALUED = {
    **dict.fromkeys(("--agent", "-a"), "agent"),
    **dict.fromkeys(("--version", "-v"), "version"),
    **dict.fromkeys(("--env", "-e"), "env"),
    **dict.fromkeys(("--limit", "-n"), "limit"),
    **{f"--{name}": name for name in ("status", "outcome", "since", "until", "tool", "session")},
    "--user": "user",
    "--cursor": "cursor",
    "--db": "db",
}
_FLAGS = {"--has-errors": "has_errors", "--denied": "denied", "--json": "json"}
_INT = re.compile(r"[+-]?\d+")


def _int(text: str | None, default: int | None) -> int | None:
    if text is None:
        return default
    if not _INT.fullmatch(text.strip()):
        raise ValueError(text)
    return int(text)


def try_runs(argv: list[str]) -> bool:
    """Run ``agentdeck runs ARGV`` if this path can (True: printed); else False, nothing
    printed."""
    parsed = parse(argv, _VALUED, _FLAGS, 0)
    if parsed is None:
        return False
    opts = parsed.opts
    path = store_path(opts.get("db"))
    if path is None:
        return False
    from agentdeck.core.errors import InputError
    from agentdeck.core.timeparse import parse_time_ns
    from agentdeck.core.trace.model import Outcome, SpanStatus
    from agentdeck.core.trace.query import RunCursor, RunQuery, next_cursor

    try:
        status, outcome = opts.get("status"), opts.get("outcome")
        since, until, cursor = opts.get("since"), opts.get("until"), opts.get("cursor")
        limit = _int(opts.get("limit"), 50)
        assert limit is not None
        if not 1 <= limit <= 10_000:
            return False
        query = RunQuery(
            agent_name=opts.get("agent"),
            agent_version=_int(opts.get("version"), None),
            env=opts.get("env"),
            status=SpanStatus(status) if status else None,
            since_ns=parse_time_ns(since, "--since") if since else None,
            until_ns=parse_time_ns(until, "--until") if until else None,
            tool=opts.get("tool"),
            has_errors=True if opts.get("has_errors") else None,
            denied=True if opts.get("denied") else None,
            outcome=Outcome(outcome) if outcome else None,
            session_id=opts.get("session"),
            user_id=opts.get("user"),
            limit=limit,
            after=RunCursor.decode(cursor, "--cursor") if cursor else None,
            project="default",
        )
    except (ValueError, InputError):
        return False  # the full command says what is wrong, in its words
    from agentdeck.store.lite import open_readonly
    from agentdeck.store.lite_projects import project_exists
    from agentdeck.store.lite_run_list import find_runs_in

    with open_readonly(path) as conn:
        if conn is None or not project_exists(conn, "default"):
            return False
        found = find_runs_in(conn, query)
    if found is None:
        return False
    after = next_cursor(found, limit)
    if opts.get("json"):
        from agentdeck.cli.console import print_json
        from agentdeck.tracing.run_json import run_json

        print_json([run_json(r) for r in found])
        if after is not None:
            sys.stderr.write(f"next page: --cursor {after.encode()}\n")
        return True
    from agentdeck.cli.console import console

    if not found:
        console.print("no runs match" if cursor is None else "no more runs", markup=False)
        return True
    from agentdeck.cli.runs_render import runs_table

    console.print(runs_table(found))
    if after is not None:
        console.print(f"next page: --cursor {after.encode()}", markup=False, soft_wrap=True)
    return True
