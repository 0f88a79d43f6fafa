"""Bytes a run takes in the SQL store, by conversation length: context windows stored once.

Run:  .venv/bin/python bench/context_storage_bench.py [--runs 10] [--src PATH]

Each run is a customer-service conversation of N turns (5, 20, 50). A turn is a user message,
a model call that answers with a tool call, the tool's result, and a second model call that
answers the user: two LLM spans per turn, each seeing the whole conversation so far (as every
chat API sends it), and one tool span. The runs are written with ``store.write_batch`` into
a fresh SQLite database, which is then ``VACUUM``-ed; figures are bytes per run:

- ``file``: the database file's size (page count x page size) over the runs, minus an empty
  database's size;
- ``stored``: the bytes of the stored JSON text (span inputs, outputs, attributes, and the
  ``messages`` table when there is one).

``--src`` chooses the sources to measure (default: this checkout's ``src``); pass another
checkout's ``src`` (for example one before revision 0015_messages) for the "before" column.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def conversation(trace: str, turns: int) -> tuple[Any, list[Any]]:
    from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus, TokenUsage

    def sid(i: int) -> str:
        return f"{i + 1:016x}"

    tools = [
        {
            "type": "function",
            "function": {
                "name": n,
                "description": f"{n} tool " * 8,
                "parameters": {"type": "object", "properties": {"id": {"type": "string"}}},
            },
        }
        for n in ("get_reservation_details", "cancel_reservation", "get_user_details")
    ]
    window: list[dict[str, Any]] = [
        {"role": "system", "content": "You are an airline customer-service agent. " * 30}
    ]
    spans = [
        Span(
            trace,
            sid(0),
            None,
            "agent",
            SpanKind.AGENT,
            0,
            10**12,
            seq=0,
            status=SpanStatus.OK,
            attributes={"agent.name": "bot"},
        )
    ]
    seq = 1
    for t in range(turns):
        window.append({"role": "user", "content": f"turn {t}: please check booking R{t:04d}. " * 4})
        call = {
            "id": f"call_{t}",
            "type": "function",
            "function": {"name": "get_reservation_details", "arguments": f'{{"id":"R{t:04d}"}}'},
        }
        reply = {"role": "assistant", "content": None, "tool_calls": [call]}
        spans.append(
            Span(
                trace,
                sid(seq),
                sid(0),
                "chat",
                SpanKind.LLM,
                seq,
                seq + 1,
                seq=seq,
                status=SpanStatus.OK,
                inputs={"model": "gpt-4o", "messages": list(window), "tools": tools},
                outputs={"message": reply},
                usage=TokenUsage(1000, 50),
            )
        )
        seq += 1
        result = {
            "reservation_id": f"R{t:04d}",
            "cabin": "basic_economy",
            "insurance": "no",
            "flights": [{"flight": f"HAT{i:03d}", "date": "2024-05-01"} for i in range(4)],
            "passengers": [{"first_name": "Ann", "last_name": "Lee", "dob": "1990-01-01"}],
        }
        spans.append(
            Span(
                trace,
                sid(seq),
                sid(0),
                "get_reservation_details",
                SpanKind.TOOL,
                seq,
                seq + 1,
                seq=seq,
                status=SpanStatus.OK,
                inputs={"args": {"id": f"R{t:04d}"}},
                outputs={"result": result},
                attributes={"tool.name": "get_reservation_details"},
            )
        )
        seq += 1
        window.append(reply)
        window.append({"role": "tool", "tool_call_id": f"call_{t}", "content": str(result)})
        answer = {"role": "assistant", "content": f"Your booking R{t:04d} is basic economy. " * 3}
        spans.append(
            Span(
                trace,
                sid(seq),
                sid(0),
                "chat",
                SpanKind.LLM,
                seq,
                seq + 1,
                seq=seq,
                status=SpanStatus.OK,
                inputs={"model": "gpt-4o", "messages": list(window), "tools": tools},
                outputs={"message": answer},
                usage=TokenUsage(1000, 50),
            )
        )
        seq += 1
        window.append(answer)
    run = Run(
        trace_id=trace,
        agent_name="bot",
        agent_version=None,
        agent_digest=None,
        env=None,
        deployment_id=None,
        start_ns=0,
        end_ns=10**12,
        status=SpanStatus.OK,
        error=None,
        input="hi",
        output="bye",
    )
    return run, spans


def _size(db: Path) -> int:
    """The database's size after VACUUM (its own connection, outside any transaction)."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        return int(pages) * int(page)
    finally:
        conn.close()


def _stored(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        total = (
            conn.execute(
                "SELECT SUM(COALESCE(LENGTH(inputs),0) + COALESCE(LENGTH(outputs),0)"
                " + COALESCE(LENGTH(attributes),0)) FROM spans"
            ).fetchone()[0]
            or 0
        )
        if conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'messages'").fetchone()[0]:
            total += conn.execute("SELECT SUM(LENGTH(content)) FROM messages").fetchone()[0] or 0
        return int(total)
    finally:
        conn.close()


def measure(turns: int, n_runs: int) -> tuple[float, float]:
    from agentdeck.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        open_store(f"sqlite:///{db}").close()
        empty = _size(db)
        store = open_store(f"sqlite:///{db}")
        for r in range(n_runs):
            run, spans = conversation(f"{r:032x}", turns)
            store.write_batch([run], spans)
        store.close()
        return (_size(db) - empty) / n_runs, _stored(db) / n_runs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--src", default=str(ROOT / "src"))
    a = p.parse_args()
    sys.path.insert(0, a.src)
    print(f"sources: {a.src}; {a.runs} runs per length")
    print(f"{'turns':>5}  {'file bytes/run':>15}  {'stored JSON bytes/run':>22}")
    for turns in (5, 20, 50):
        f, s = measure(turns, a.runs)
        print(f"{turns:>5}  {f:>15,.0f}  {s:>22,.0f}")


if __name__ == "__main__":
    main()
