"""Which optional extra brings a module, and the one-line error when it is missing.

``pip install agentdeck`` is the SDK, the policies, the embedded SQLite store and the CLI. The
statistics behind monitoring, the PostgreSQL driver, the web server and the other integrations
are extras (``pyproject.toml``). A command that needs one that is not installed fails with one
line naming the extra and the command that installs it, never with a traceback.
"""

from __future__ import annotations

from agentdeck.core.errors import AgentDeckError

# The top-level module each extra brings, by the extra's name in pyproject.toml.
EXTRA_OF_MODULE: dict[str, str] = {
    "numpy": "stats",
    "scipy": "stats",
    "psycopg": "postgres",
    "psycopg_binary": "postgres",
    "fastapi": "server",
    "starlette": "server",
    "uvicorn": "server",
    "jinja2": "server",
    "prometheus_client": "server",
    "clickhouse_connect": "clickhouse",
    "chdb": "clickhouse",
    "pyarrow": "parquet",
}

# What each extra is for, as the error says it.
PURPOSE: dict[str, str] = {
    "stats": "monitoring statistics",
    "postgres": "the PostgreSQL store",
    "server": "the server and web UI",
    "clickhouse": "the ClickHouse trace store",
    "parquet": "Parquet export",
}


class MissingExtraError(AgentDeckError):
    """A feature needs an optional extra that is not installed (exit code 2)."""

    exit_code = 2

    def __init__(self, extra: str, module: str) -> None:
        self.extra = extra
        self.module = module
        purpose = PURPOSE.get(extra, extra)
        super().__init__(
            f"this needs the '{extra}' extra for {purpose} ({module} is not installed): "
            f"pip install 'agentdeck[{extra}]'"
        )


def missing_extra(exc: BaseException) -> MissingExtraError | None:
    """The :class:`MissingExtraError` an import failure stands for, or ``None`` when the
    missing module belongs to no extra (a real bug, to be shown as it is)."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    top = exc.name.split(".", 1)[0]
    extra = EXTRA_OF_MODULE.get(top)
    return MissingExtraError(extra, top) if extra else None
