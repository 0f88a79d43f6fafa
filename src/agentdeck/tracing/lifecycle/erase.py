"""Deleting runs: by id, session, user or search query (a person's right to erasure), and by
each environment's retention (``retention.days``), in batches.

Each batch of at most :data:`BATCH` runs is deleted in one transaction with one audit entry
(action ``runs.delete``, or ``runs.expire`` for retention) that holds what was selected (the
run ids given are hashed, a session or user id as given would be personal data, so it is
hashed too; the query text is kept), how many runs and rows per table were deleted, and the
SHA-256 of each deleted run id, never anything of the runs' content. A dry run counts the
runs that would go and changes nothing. A selection made for a project (``project=``) matches
only that project's runs (another project's run id is not found), and its audit entries name
the project.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.errors import InputError, UnresolvedReferenceError
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.core.timeparse import format_time_ns
from agentdeck.core.trace.lifecycle import DeleteReport, hashed_ids, retention_days
from agentdeck.core.trace.query import RunQuery, next_cursor
from agentdeck.core.trace.search_plan import search_query
from agentdeck.store.protocol import DeploymentStore, LifecycleStore, TraceStore

__all__ = ["BATCH", "Selection", "delete_runs", "expire_runs", "resolve_ids", "selection"]

BATCH = 500
_DAY_NS = 86_400 * 1_000_000_000
Progress = Callable[[int], None]


class Selection:
    """Which runs to delete: a :class:`RunQuery` and how the audit entry names it."""

    def __init__(
        self, query: RunQuery, described: dict[str, object], ids: Sequence[str] = ()
    ) -> None:
        self.query, self.described, self.ids = query, described, tuple(ids)
        self.project = query.project


def _sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def resolve_ids(
    store: TraceStore, refs: Sequence[str], part: str = "--run", project: str | None = None
) -> list[str]:
    """Run ids from ids or unique prefixes; an unknown or ambiguous one is an error naming it;
    ``project``: only that project's runs."""
    out: list[str] = []
    for ref in refs:
        found = store.trace_ids_with_prefix(ref, limit=2, project=project)
        if not found:
            raise UnresolvedReferenceError(f"{part} {ref}", "no such run")
        if len(found) > 1 and ref not in found:
            raise InputError(f"{part} {ref}: more than one run starts with it")
        out.append(ref if ref in found else found[0])
    return out


def selection(
    store: TraceStore,
    *,
    run_ids: Sequence[str] = (),
    session: str | None = None,
    user: str | None = None,
    query: str | None = None,
    source: str = "-q",
    project: str | None = None,
) -> Selection:
    """The runs to delete, from the selectors given (all must hold); at least one is required;
    ``project``: only that project's runs."""
    if not (run_ids or session or user or (query and query.strip())):
        raise InputError("nothing selected: give run ids, a session, a user or a query")
    described: dict[str, object] = {}
    ids = resolve_ids(store, run_ids, project=project) if run_ids else []
    if ids:
        described["run_ids_sha256"] = hashed_ids(ids)
    if session:
        described["session_sha256"] = _sha(session)
    if user:
        described["user_sha256"] = _sha(user)
    if query and query.strip():
        described["query"] = query
    base = RunQuery(session_id=session or None, user_id=user or None, project=project)
    q = search_query(base, query, source)
    return Selection(q, described, ids)


def _pages(store: TraceStore, sel: Selection, *, moving: bool) -> list[str]:
    """The next batch of matching run ids (``moving``: the first page, as deletion moves it)."""
    if sel.ids:
        ids = list(sel.ids)
        if replace(sel.query, project=None) != RunQuery():  # other selectors must hold too
            keep = {r.trace_id for r in store.find_runs(replace(sel.query, limit=10_000))}
            ids = [t for t in ids if t in keep]
        return ids
    return [r.trace_id for r in store.find_runs(replace(sel.query, limit=BATCH))]


def _count(
    store: TraceStore, query: RunQuery, ids: Sequence[str], progress: Progress | None
) -> int:
    if ids:
        return len(_pages(store, Selection(query, {}, ids), moving=False))
    n, page = 0, replace(query, limit=1000, after=None)
    while True:
        found = store.find_runs(page)
        n += len(found)
        if progress:
            progress(n)
        after = next_cursor(found, page.limit)
        if after is None:
            return n
        page = replace(page, after=after)


def _delete(
    store: TraceStore,
    sel: Selection,
    actor: str,
    action: str,
    subject: str,
    dry_run: bool,
    progress: Progress | None,
) -> DeleteReport:
    what = subject
    if dry_run:
        return DeleteReport(what, _count(store, sel.query, sel.ids, progress), {}, True)
    if not isinstance(store, LifecycleStore):
        raise InputError("deleting runs needs the SQL trace store (not ClickHouse)")
    done, rows = 0, dict[str, int]()
    while True:
        ids = _pages(store, sel, moving=True)
        if not ids:
            break
        detail: dict[str, object] = {"selection": sel.described, "runs": len(ids),
                                     "trace_ids_sha256": hashed_ids(ids)}  # fmt: skip
        audit = AuditEvent(actor, action, subject, detail, sel.project or DEFAULT_PROJECT)
        for table, n in store.delete_runs(ids, audit).items():
            rows[table] = rows.get(table, 0) + n
        done += len(ids)
        if progress:
            progress(done)
        if sel.ids:
            break
    return DeleteReport(what, done, rows, False)


def delete_runs(
    store: TraceStore,
    sel: Selection,
    actor: str,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> DeleteReport:
    """Delete the selected runs in audited batches (module docstring)."""
    names = {"run_ids_sha256": "id", "session_sha256": "session", "user_sha256": "user"}
    subject = "runs by " + " and ".join(names.get(k, k) for k in sel.described)
    return _delete(store, sel, actor, "runs.delete", subject, dry_run, progress)


class _Stores(TraceStore, DeploymentStore, Protocol):  # (what expire_runs reads)
    pass


def expire_runs(
    store: _Stores,
    now_ns: int,
    actor: str,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> list[DeleteReport]:
    """Delete, per environment of the promotion path with ``retention.days`` set, the runs
    that started more than that many days before ``now_ns``."""
    reports: list[DeleteReport] = []
    for env in store.get_promotion_path():
        days = retention_days(store.get_gate_config(env).settings, env)
        if days is None:
            continue
        cutoff = now_ns - days * _DAY_NS
        sel = Selection(RunQuery(env=env, until_ns=cutoff),
                        {"env": env, "retention_days": days, "before": format_time_ns(cutoff)})  # fmt: skip
        reports.append(_delete(store, sel, actor, "runs.expire", f"env {env}", dry_run, progress))
    return reports
