"""Search in SQL: what ingest writes for it, and the WHERE clause of a search tree.

At ingest (:func:`index_batch`, in the batch's transaction) every run's attributes go to
``run_attrs`` (``tags``/``tag.tags`` items under the key ``tag``, a ``metadata`` object or JSON
string under ``metadata.KEY``), and the text of the run (input, output) and of each tool,
LLM (output), retrieval and custom span (inputs, outputs, error) to ``search_docs``: the string
and number values of the JSON, joined by spaces, at most :data:`MAX_BODY` characters. Both
are insert-or-ignore by key, so a re-sent batch changes nothing.

:func:`search_clause` compiles a tree of :mod:`agentdeck.core.trace.search` to SQLAlchemy:
fields of ``runs`` are column comparisons, ``tool`` a semi-join on ``run_tools``, attributes
one on ``run_attrs`` (index ``(key, value, trace_id)``), text one on the full-text index,
written per dialect by :class:`TextMatch` (SQLite FTS5 ``MATCH``, PostgreSQL ``@@`` on the GIN
index of ``to_tsvector('simple', body)``). A negation matches the runs where the inner
clause is false or unknown (a run without that field).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import and_, exists, false, func, literal_column, not_, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Boolean

from agentdeck.core.trace.model import PROVISIONAL, Run, Span, SpanKind
from agentdeck.core.trace.search import All, Any_, Node, Not, Term, Text
from agentdeck.store.engine import is_sqlite, param_mark
from agentdeck.store.tables import run_tools, runs
from agentdeck.store.tables_search import run_attrs, search_docs

__all__ = [
    "MAX_BODY",
    "Probed",
    "TextMatch",
    "backfill",
    "index_batch",
    "probe_terms",
    "search_clause",
]

MAX_BODY = 4000
"""Characters of text kept per run or span for full-text search."""
_MAX_ATTRS = 100
_MAX_VALUE = 200
_TAG_KEYS = frozenset({"tags", "tag.tags", "langfuse.trace.tags"})
_DOC_KINDS = frozenset({SpanKind.TOOL, SpanKind.RETRIEVAL, SpanKind.CUSTOM})

# -- ingest ------------------------------------------------------------------------------------


def _strings(value: Any, out: list[str], budget: list[int]) -> None:
    if budget[0] <= 0 or value is None:
        return
    if isinstance(value, str):
        out.append(value[: budget[0]])
        budget[0] -= len(value) + 1
    elif isinstance(value, bool):
        return
    elif isinstance(value, int | float):
        _strings(str(value), out, budget)
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, out, budget)
    elif isinstance(value, list | tuple):
        for v in value:
            _strings(v, out, budget)


def text_of(*values: Any) -> str:
    """The string and number values of ``values`` (JSON), space-joined, at most :data:`MAX_BODY`."""
    out: list[str] = []
    budget = [MAX_BODY]
    for v in values:
        _strings(v, out, budget)
    return " ".join(out)[:MAX_BODY]


def span_text(kind: SpanKind, inputs: Any, outputs: Any, error: str | None) -> str:
    """What of a span is searchable: a tool, retrieval or custom span's inputs, outputs and
    error; an LLM span's output (its context window repeats the run's messages)."""
    if kind is SpanKind.LLM:
        return text_of(outputs)
    if kind in _DOC_KINDS:
        return text_of(inputs, outputs, error)
    return ""


def _scalar(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return (value if isinstance(value, str) else orjson.dumps(value).decode())[:_MAX_VALUE]


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def attr_rows(trace_id: str, attributes: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``run_attrs`` rows of one run's attributes (module docstring)."""
    rows: dict[tuple[str, str], None] = {}
    for key, raw in attributes.items():
        if key == PROVISIONAL or len(key) > _MAX_VALUE:
            continue
        value = _maybe_json(raw) if key in _TAG_KEYS or key == "metadata" else raw
        if key in _TAG_KEYS:
            items = value if isinstance(value, list) else [value]
            rows.update(dict.fromkeys(("tag", t) for i in items if (t := _scalar(i)) is not None))
        elif key == "metadata" and isinstance(value, dict):
            for mk, mv in value.items():
                if (t := _scalar(mv)) is not None and len(mk) < _MAX_VALUE - 9:
                    rows[(f"metadata.{mk}", t)] = None
        elif isinstance(value, list):
            rows.update(dict.fromkeys((key, t) for i in value if (t := _scalar(i)) is not None))
        elif (t := _scalar(value)) is not None:
            rows[(key, t)] = None
        if len(rows) >= _MAX_ATTRS:
            break
    return [(trace_id, k, v) for k, v in list(rows)[:_MAX_ATTRS]]


def _docs_sql(conn: Connection) -> str:
    m = param_mark(conn)
    return (
        f"INSERT INTO {search_docs.name} (trace_id, span_id, body) VALUES ({m}, {m}, {m})"
        " ON CONFLICT DO NOTHING"
    )


def _attrs_sql(conn: Connection) -> str:
    m = param_mark(conn)
    return f"INSERT INTO {run_attrs.name} (trace_id, key, value) VALUES ({m}, {m}, {m}) ON CONFLICT DO NOTHING"


def index_batch(conn: Connection, runs_: Sequence[Run], spans_: Sequence[Span]) -> None:
    """Write the attributes and text of a batch's runs (real or provisional) and spans."""
    attrs: list[tuple[str, str, str]] = []
    docs: list[tuple[str, str, str]] = []
    for r in runs_:
        attrs.extend(attr_rows(r.trace_id, r.attributes))
        if body := text_of(r.input, r.output):
            docs.append((r.trace_id, "", body))
    for s in spans_:
        if body := span_text(s.kind, s.inputs, s.outputs, s.error):
            docs.append((s.trace_id, s.span_id, body))
    if attrs:
        conn.exec_driver_sql(_attrs_sql(conn), attrs)
    if docs:
        conn.exec_driver_sql(_docs_sql(conn), docs)


def _chunks(conn: Connection, sql: str, size: int = 2000) -> Iterator[list[Any]]:
    """Rows of ``sql`` (ordered by its first column, a key; ``{after}`` its keyset bound)."""
    m = param_mark(conn)
    last = ""
    while True:
        rows = conn.exec_driver_sql(sql.format(after=m) + f" LIMIT {size}", (last,)).all()
        if not rows:
            return
        yield list(rows)
        last = rows[-1][0]


def backfill(conn: Connection) -> None:
    """Index the runs and spans stored before migration ``0017_search``, in chunks."""
    for rows in _chunks(
        conn,
        "SELECT trace_id, attributes, input, output FROM runs WHERE trace_id > {after} ORDER BY trace_id",
    ):
        attrs = [a for t, at, *_ in rows if at for a in attr_rows(t, orjson.loads(at))]
        docs = [
            (t, "", body)
            for t, _, i, o in rows
            if (body := text_of(orjson.loads(i) if i else None, orjson.loads(o) if o else None))
        ]
        if attrs:
            conn.exec_driver_sql(_attrs_sql(conn), attrs)
        if docs:
            conn.exec_driver_sql(_docs_sql(conn), docs)
    for rows in _chunks(
        conn,
        "SELECT trace_id || ':' || span_id, trace_id, span_id, kind, inputs, outputs, error"
        " FROM spans WHERE trace_id || ':' || span_id > {after}"
        " AND kind IN ('tool', 'llm', 'retrieval', 'custom') ORDER BY 1",
    ):
        docs = [
            (t, s, body)
            for _, t, s, k, i, o, e in rows
            if (body := span_text(SpanKind(k), _load(i), _load(o), e))
        ]
        if docs:
            conn.exec_driver_sql(_docs_sql(conn), docs)


def _load(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


# -- query -------------------------------------------------------------------------------------


class TextMatch(ColumnElement[bool]):
    """``runs.trace_id`` is a run whose text matches ``text`` (compiled per dialect);
    ``dense``: many runs match, so SQLite walks the list's index newest first and checks each
    run against the matches (``+runs.trace_id``: not by the primary key), with no sort."""

    type = Boolean()
    inherit_cache = False

    def __init__(self, text: Text, dense: bool = False) -> None:
        self.text = text
        self.dense = dense


def _fts5(t: Text) -> str:
    quoted = '"' + t.text.replace('"', '""') + '"'
    return quoted + ("*" if t.prefix else "")


@compiles(TextMatch, "sqlite")
def _match_sqlite(element: TextMatch, compiler: Any, **kw: Any) -> str:
    from sqlalchemy import bindparam

    p = compiler.process(bindparam(None, _fts5(element.text), unique=True), **kw)
    lhs = "+runs.trace_id" if element.dense else "runs.trace_id"
    return (
        f"{lhs} IN (SELECT search_docs.trace_id FROM search_fts"
        " JOIN search_docs ON search_docs.id = search_fts.rowid"
        f" WHERE search_fts MATCH {p})"
    )


def _tsquery(t: Text, compiler: Any, **kw: Any) -> str:
    from sqlalchemy import bindparam

    words = re.findall(r"\w+", t.text)
    if t.prefix and words:
        q = " <-> ".join(f"'{w}'" for w in words) + ":*"
        p = compiler.process(bindparam(None, q, unique=True), **kw)
        return f"to_tsquery('simple', {p})"
    p = compiler.process(bindparam(None, t.text, unique=True), **kw)
    return f"phraseto_tsquery('simple', {p})"


@compiles(TextMatch, "postgresql")
def _match_pg(element: TextMatch, compiler: Any, **kw: Any) -> str:
    return (
        "runs.trace_id IN (SELECT search_docs.trace_id FROM search_docs"
        f" WHERE to_tsvector('simple', search_docs.body) @@ {_tsquery(element.text, compiler, **kw)})"
    )


_COLUMNS = {
    "agent": runs.c.agent_name,
    "version": runs.c.agent_version,
    "digest": runs.c.agent_digest,
    "env": runs.c.env,
    "status": runs.c.status,
    "outcome": runs.c.outcome,
    "session": runs.c.session_id,
    "user": runs.c.user_id,
    "errors": runs.c.tool_errors,
    "denied": runs.c.denied_calls,
    "time": runs.c.start_ns,
}


def _compare(left: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return left == value
    if op == "!=":
        return left != value
    if op == ">":
        return left > value
    if op == ">=":
        return left >= value
    if op == "<":
        return left < value
    return left <= value


def _in_attrs(key: str, value: str, dense: bool) -> ColumnElement[bool]:
    a = run_attrs.c
    if dense:  # checked per run newest first by the primary key, stopping at the page's end
        return exists().where(a.trace_id == runs.c.trace_id, a.key == key, a.value == value)
    return runs.c.trace_id.in_(select(a.trace_id).where(a.key == key, a.value == value))


def _attr_key(t: Term) -> tuple[str, str] | None:
    """The ``run_attrs`` (key, value) a term reads, if it reads one."""
    name = t.field
    if name == "tag":
        return "tag", str(t.value)
    if name.startswith("attr."):
        return name[5:], str(t.value)
    if name.startswith("metadata."):
        return name, str(t.value)
    return None


DENSE = 1000
"""Index entries of a term collected up front: at most this many, its runs are named by id;
beyond, the term is checked run by run as the list is walked newest first."""

Probed = Mapping[Node, "tuple[str, ...] | None"]
"""What :func:`probe_terms` found per attribute or text term: the ids of every run it
matches (at most :data:`DENSE` entries), or None when it matches more."""


def _probe_sql(conn: Connection, n: Node) -> tuple[str, tuple[Any, ...]] | None:
    m = param_mark(conn)
    lim = f" LIMIT {DENSE + 1}"
    if isinstance(n, Term) and n.op in ("=", "!=") and (kv := _attr_key(n)) is not None:
        return f"SELECT trace_id FROM run_attrs WHERE key = {m} AND value = {m}{lim}", kv
    if not isinstance(n, Text):
        return None
    if is_sqlite(conn):
        return (
            "SELECT d.trace_id FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid"
            f" WHERE search_fts MATCH {m}{lim}",
            (_fts5(n),),
        )
    words = re.findall(r"\w+", n.text)
    if n.prefix and words:
        tsq, arg = f"to_tsquery('simple', {m})", " <-> ".join(f"'{w}'" for w in words) + ":*"
    else:
        tsq, arg = f"phraseto_tsquery('simple', {m})", n.text
    return f"SELECT trace_id FROM search_docs WHERE to_tsvector('simple', body) @@ {tsq}{lim}", (
        arg,
    )


def probe_terms(conn: Connection, node: Node | None) -> dict[Node, tuple[str, ...] | None]:
    """Each attribute and text term of ``node``, read up to :data:`DENSE` + 1 index entries:
    a term with few matches becomes the list of their run ids (then the list is a lookup of
    those runs by key, whatever the planner would have guessed), one with many is checked per
    run (:data:`Probed`). One bounded read per term."""
    found: dict[Node, tuple[str, ...] | None] = {}
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        if isinstance(n, Not):
            stack.append(n.item)
        elif isinstance(n, All | Any_):
            stack.extend(n.items)
        elif n not in found and (probe := _probe_sql(conn, n)) is not None:
            rows = conn.exec_driver_sql(*probe).all()
            found[n] = tuple(dict.fromkeys(r[0] for r in rows)) if len(rows) <= DENSE else None
    return found


def _known(ids: tuple[str, ...]) -> ColumnElement[bool]:
    return runs.c.trace_id.in_(ids) if ids else false()


def _term(t: Term, dense: Probed) -> ColumnElement[bool]:
    name, op, value = t.field, t.op, t.value
    if op == "!=":
        return _negate(_term(Term(name, "=", value, t.pos), dense))
    if name == "tool":
        r = run_tools.c
        return runs.c.trace_id.in_(select(r.trace_id).where(r.tool_name == value))
    if (kv := _attr_key(t)) is not None:
        if (ids := dense.get(t)) is not None:
            return _known(ids)
        return _in_attrs(*kv, dense=t in dense)
    if name == "cost":  # runs.cost_usd: migration 0016_run_cost
        return _compare(literal_column("runs.cost_usd"), op, value)
    if name == "latency":
        return and_(
            runs.c.end_ns.is_not(None), _compare(runs.c.end_ns - runs.c.start_ns, op, value)
        )
    col = _COLUMNS[name]
    if isinstance(value, bool):  # errors:true / denied:false
        return col > 0 if value else col == 0
    return _compare(col, op, value)


def _negate(inner: ColumnElement[bool]) -> ColumnElement[bool]:
    return not_(func.coalesce(inner, false()))


def search_clause(node: Node, dense: Probed | None = None) -> ColumnElement[bool]:
    """The WHERE clause of a search tree over ``runs`` (module docstring); ``dense``: what
    :func:`probe_terms` found (terms it did not probe are semi-joins the planner places)."""
    dense = dense if dense is not None else {}
    if isinstance(node, Term):
        return _term(node, dense)
    if isinstance(node, Text):
        if (ids := dense.get(node)) is not None:
            return _known(ids)
        return TextMatch(node, node in dense)
    if isinstance(node, Not):
        return _negate(search_clause(node.item, dense))
    if isinstance(node, All):
        return and_(*(search_clause(i, dense) for i in node.items))
    assert isinstance(node, Any_)
    return or_(*(search_clause(i, dense) for i in node.items))
