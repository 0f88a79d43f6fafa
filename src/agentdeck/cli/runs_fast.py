"""``agentdeck runs --json`` without Typer, Rich, pydantic or SQLAlchemy (issue 17: start-up).

:func:`main` in :mod:`.main` tries this first for a command line of exactly that shape: the
options of ``runs`` (:func:`.trace_cmds.runs_cmd`), ``--json`` among them, in the forms Click
accepts (``--opt value``, ``--opt=value``, the short names). It answers from the SQLite store
through :func:`~agentdeck.store.lite_run_list.find_runs_readonly` and prints what the full
command prints. Anything else returns False and the full command runs: an unknown option,
``--help``, a value the full command would reject (its error message is the one shown), a store
that is not SQLite or not at the scripts' heads, ``AGENTDECK_DATABASE_URL`` or
``AGENTDECK_TRACES_URL`` set. tests/cli/test_runs_fast_path.py compares both paths' output.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

__all__ = ["try_runs_json"]

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
# Must match agentdeck.store.engine.DEFAULT_DIR / DEFAULT_FILE (a test checks).
DEFAULT_PATH = Path(".agentdeck") / "agentdeck.db"


def _parse(argv: list[str]) -> dict[str, Any] | None:
    """The options of ``runs`` on ``argv`` (after ``runs``), or None if Click might read the
    line differently."""
    got: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in _FLAGS and not eq:
            got[_FLAGS[name]] = True
        elif name in _VALUED:
            if not eq:
                i += 1
                if i == len(argv):
                    return None
                value = argv[i]
            got[_VALUED[name]] = value
        else:
            return None
        i += 1
    return got if got.get("json") else None


def _default(value: Any) -> Any:  # as agentdeck.cli.common's print_json
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(type(value).__name__)


def _int(text: str | None, default: int | None) -> int | None:
    if text is None:
        return default
    if not _INT.fullmatch(text.strip()):
        raise ValueError(text)
    return int(text)


def try_runs_json(argv: list[str]) -> bool:
    """Run ``agentdeck runs ARGV`` if this path can (True: printed); else False, nothing
    printed."""
    opts = _parse(argv)
    if opts is None:
        return False
    from agentdeck.settings import is_set

    if any(is_set(v) for v in ("AGENTDECK_DATABASE_URL", "AGENTDECK_TRACES_URL",
                               "AGENTDECK_PROJECT")):  # fmt: skip
        return False  # (another project: the full command checks that it exists)
    from agentdeck.core.errors import InputError
    from agentdeck.core.timeparse import parse_time_ns
    from agentdeck.core.trace.model import Outcome, SpanStatus
    from agentdeck.core.trace.query import RunCursor, RunQuery, next_cursor

    db = opts.get("db")
    if db:
        if not db.startswith("sqlite:///") or "?" in db or db == "sqlite:///:memory:":
            return False
        path = Path(db.removeprefix("sqlite:///"))
    else:
        path = Path.cwd() / DEFAULT_PATH
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
    from agentdeck.store.lite_run_list import find_runs_readonly

    found = find_runs_readonly(path, query)
    if found is None:
        return False
    from agentdeck.tracing.run_json import run_json

    body = [run_json(r) for r in found]
    text = orjson.dumps(
        body, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=_default
    )
    sys.stdout.write(text.decode() + "\n")
    sys.stdout.flush()
    after = next_cursor(found, limit)
    if after is not None:
        sys.stderr.write(f"next page: --cursor {after.encode()}\n")
    return True
