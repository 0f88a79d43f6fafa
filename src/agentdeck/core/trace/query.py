"""Which stored runs to list: :class:`RunQuery` (:meth:`agentdeck.store.protocol.TraceStore.find_runs`)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Outcome, SpanStatus

if TYPE_CHECKING:  # (the search grammar loads when a query is parsed)
    from agentdeck.core.trace.search import Node


@dataclass(frozen=True)
class RunQuery:
    """Filters for :meth:`SqlTraces.find_runs`; every field is optional. Times in ns since epoch."""

    agent_name: str | None = None
    agent_version: int | None = None
    agent_digest: str | None = None
    env: str | None = None
    status: SpanStatus | None = None
    since_ns: int | None = None
    until_ns: int | None = None
    tool: str | None = None
    has_errors: bool | None = None  # True: a tool call failed; False: none did
    denied: bool | None = None  # True: a policy denied a tool call; False: none was
    outcome: Outcome | None = None
    session_id: str | None = None
    user_id: str | None = None
    limit: int = 100
    offset: int = 0
    after: RunCursor | None = None  # keyset paging: only runs after this one in the order
    search: Node | None = None  # what a search query adds to the fields above (search_plan)
    project: str | None = None  # only this project's runs (None: every project's)


MAX_OFFSET = 10_000
"""The largest ``offset`` a list accepts: deeper pages are read after a :class:`RunCursor`."""


@dataclass(frozen=True)
class RunCursor:
    """Where a page of runs ended: the last run's start and id. The next page is the runs
    strictly before it in the list's order (newest first, ties broken by id, descending), so
    paging returns every run once even while new runs arrive. Opaque to clients: :meth:`encode`
    and :meth:`decode`."""

    start_ns: int
    trace_id: str

    def encode(self) -> str:
        raw = f"{self.start_ns}:{self.trace_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, part: str = "cursor") -> RunCursor:
        """The cursor :meth:`encode` made; anything else is an :class:`InputError` naming
        ``part``."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            start, _, trace_id = raw.partition(":")
            start_ns = int(start)
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise InputError(f"{part}: not a cursor this server returned") from None
        if not trace_id or not 0 <= start_ns < 2**63 or len(trace_id) > 64:
            raise InputError(f"{part}: not a cursor this server returned")
        return cls(start_ns, trace_id)


def next_cursor(page: Sequence[Any], limit: int) -> RunCursor | None:
    """The cursor after a full page of runs (objects with ``start_ns`` and ``trace_id``); None
    when the page is short, so the list has no more."""
    if len(page) < limit or not page:
        return None
    last = page[-1]
    return RunCursor(int(last.start_ns), str(last.trace_id))


def prefix_range(prefix: str) -> tuple[str, str | None]:
    """The ids that start with ``prefix`` as a half-open range ``[low, high)`` in code point
    order (SQLite's BINARY, PostgreSQL's ``C`` collation): ``high`` is the prefix with its last
    character incremented, None when every id at or above ``low`` matches the range's end."""
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if code == 0xD800:  # skip the surrogates, never in stored text
            code = 0xE000
        if code <= 0x10FFFF:
            chars[-1] = chr(code)
            return prefix, "".join(chars)
        chars.pop()
    return prefix, None


@dataclass(frozen=True)
class RunCount:
    """How many runs a query matches: ``exact``; else an ``estimate`` (the PostgreSQL
    planner's) or a lower bound (``at_least``) where counting would read too much."""

    n: int
    kind: Literal["exact", "estimate", "at_least"] = "exact"

    def text(self) -> str:
        return {"exact": "{:,}", "estimate": "about {:,}", "at_least": "more than {:,}"}[
            self.kind
        ].format(self.n)
