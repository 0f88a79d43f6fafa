"""What the ClickHouse store tests measure: the rows ClickHouse reads for a call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agentdeck.store.clickhouse.seam import ChdbConnection


def rows_read(monkeypatch: pytest.MonkeyPatch, fn: Callable[[], object]) -> int:
    """The rows ClickHouse read (``storage_rows_read``) for the queries of ``fn()``."""
    read = [0]
    real = ChdbConnection._query

    def counting(self: ChdbConnection, sql: str, fmt: str, params: Any) -> Any:
        res = real(self, sql, fmt, params)
        read[0] += int(res.storage_rows_read())
        return res

    with monkeypatch.context() as m:
        m.setattr(ChdbConnection, "_query", counting)
        fn()
    return read[0]
