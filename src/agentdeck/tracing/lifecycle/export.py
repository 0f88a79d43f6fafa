"""Export runs and their spans, with the same filters as search, streaming: JSONL (one file,
a run's line followed by its spans' lines, each with ``"record": "run"`` or ``"span"``) or
Parquet (a directory with ``runs.parquet`` and ``spans.parquet``, written a row group per
page, needs the ``export`` extra: pyarrow).

Runs are read a page at a time after a keyset cursor (newest first), with their spans, and
written before the next page is read: memory is bounded by one page, whatever the store's
size. The shapes are the API's (:func:`run_json`, :func:`span_to_dict`); in Parquet, nested
values (input, output, attributes, links, usage) are JSON text columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import orjson

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Run, Span, SpanKind
from agentdeck.core.trace.query import RunQuery, next_cursor
from agentdeck.store.protocol import TraceStore
from agentdeck.tracing.analysis.queries import run_json
from agentdeck.tracing.sdk.wire import span_to_dict

__all__ = ["FORMATS", "PAGE", "ExportReport", "export_jsonl", "export_parquet", "iter_pages"]

PAGE = 200
FORMATS = ("jsonl", "parquet")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportReport:
    runs: int
    spans: int
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "spans": self.spans, "path": self.path}


def iter_pages(
    store: TraceStore, query: RunQuery, page: int = PAGE
) -> Iterator[list[tuple[Run, list[Span]]]]:
    """The matching runs with their spans, a page at a time, newest first."""
    q = replace(query, limit=page, offset=0)
    while True:
        found = store.find_runs(q)
        if not found:
            return
        yield store.get_runs_with_spans([r.trace_id for r in found])
        after = next_cursor(found, page)
        if after is None:
            return
        q = replace(q, after=after)


def export_jsonl(store: TraceStore, query: RunQuery, out: IO[bytes], path: str = "-",
                 progress: Progress | None = None) -> ExportReport:  # fmt: skip
    runs = spans = 0
    for chunk in iter_pages(store, query):
        lines: list[bytes] = []
        for run, run_spans in chunk:
            lines.append(orjson.dumps({"record": "run", **run_json(run)}))
            lines.extend(orjson.dumps({"record": "span", **span_to_dict(s)}) for s in run_spans)
            runs += 1
            spans += len(run_spans)
        out.write(b"\n".join(lines) + b"\n")
        if progress:
            progress(runs, spans)
    return ExportReport(runs, spans, path)


_RUN_TYPES = {"agent_version": "int64", "start_ns": "int64", "end_ns": "int64",
              "tool_errors": "int64", "denied_calls": "int64", "outcome_score": "float64",
              "provisional": "bool_", "input_tokens": "int64", "output_tokens": "int64",
              "total_tokens": "int64", "cost_usd": "float64"}  # fmt: skip
_JSON_KEYS = frozenset({"input", "output", "attributes", "inputs", "outputs", "links", "usage"})
_SPAN_TYPES = {"start_ns": "int64", "end_ns": "int64", "seq": "int64"}


def _columns(rows: list[dict[str, Any]], types: dict[str, str]) -> dict[str, list[Any]]:
    keys = list(rows[0]) if rows else []
    cols: dict[str, list[Any]] = {k: [] for k in keys}
    for row in rows:
        for k in keys:
            v = row.get(k)
            if v is not None and (k in _JSON_KEYS or (k not in types and not isinstance(v, str))):
                v = orjson.dumps(v).decode()
            cols[k].append(v)
    return cols


def _schema(pa: Any, keys: list[str], types: dict[str, str]) -> Any:
    return pa.schema([(k, getattr(pa, types.get(k, "string"))()) for k in keys])


def export_parquet(store: TraceStore, query: RunQuery, directory: Path,
                   progress: Progress | None = None) -> ExportReport:  # fmt: skip
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            "--format parquet: needs pyarrow (pip install 'agentdeck[export]')"
        ) from None
    if directory.exists() and not directory.is_dir():
        raise InputError(f"--output {directory}: Parquet export writes a directory, not a file")
    directory.mkdir(parents=True, exist_ok=True)
    empty_run = Run("0" * 32, None, None, None, None, None, 0)
    empty_span = Span("0" * 32, "0" * 16, None, "", SpanKind.CUSTOM, 0, 0)
    writers = {
        name: pq.ParquetWriter(str(directory / f"{name}.parquet"), _schema(pa, list(keys), types))
        for name, keys, types in (("runs", run_json(empty_run), _RUN_TYPES),
                                  ("spans", span_to_dict(empty_span), _SPAN_TYPES))
    }  # fmt: skip
    runs = spans = 0
    try:
        for chunk in iter_pages(store, query):
            tables = {
                "runs": ([run_json(r) for r, _ in chunk], _RUN_TYPES),
                "spans": ([span_to_dict(s) for _, ss in chunk for s in ss], _SPAN_TYPES),
            }
            for name, (rows, types) in tables.items():
                if not rows:
                    continue
                cols = _columns(rows, types)
                w = writers[name]
                arrays = [
                    pa.array(cols.get(f.name, [None] * len(rows)), type=f.type) for f in w.schema
                ]
                w.write_table(pa.Table.from_arrays(arrays, schema=w.schema))
            runs += len(chunk)
            spans += len(tables["spans"][0])
            if progress:
                progress(runs, spans)
    finally:
        for w in writers.values():
            w.close()
    return ExportReport(runs, spans, str(directory))
