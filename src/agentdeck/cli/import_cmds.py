"""``agentdeck import``: record finished conversations (OpenAI chat JSONL) or other producers'
traces (OTLP JSON, the collector's file exporter) as runs of an agent."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from agentdeck.cli.common import DbOpt, JsonOpt, console, err_console, get_store, print_json
from agentdeck.core.errors import InputError

FORMATS = ("auto", "openai", "otlp")


def register(app: typer.Typer) -> None:
    app.command(
        "import",
        help="Import finished conversations (OpenAI chat JSONL) or OTLP JSON traces as runs of "
        "an agent: original times and usage kept, arguments validated, the policy decided in "
        "record-only mode. A bad line stops the import before anything is stored.",
    )(import_cmd)


def import_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help="JSONL file: one conversation, or one OTLP export request, a line.",
            show_default=False,
        ),
    ],
    agent: Annotated[
        str,
        typer.Option(
            "--agent",
            "-a",
            help="Agent reference the runs belong to (name@N, name@env).",
            show_default=False,
        ),
    ],
    env: Annotated[str | None, typer.Option("--env", "-e", help="Environment of the runs.")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="auto (detected from the first line), openai or otlp.")
    ] = "auto",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    from agentdeck.registry.resolver import CachingResolver
    from agentdeck.registry.service import Registry
    from agentdeck.sdk_init import init
    from agentdeck.tracing.imports.runner import check_file, import_file
    from agentdeck.tracing.sdk import api as sdk

    if fmt not in FORMATS:
        raise InputError(f"--format: must be one of {', '.join(FORMATS)}, not {fmt!r}")
    chosen, total = check_file(file, None if fmt == "auto" else fmt)  # type: ignore[arg-type]
    store = get_store(db)
    registry = Registry(store)
    registry.resolve(agent)  # an unknown reference stops here, before anything is recorded
    init(sink=store, resolver=CachingResolver(registry), env=env, on_full="block",
         spill_dir=Path.cwd() / ".agentdeck" / "spill")  # fmt: skip
    try:
        with _progress(total, not as_json) as advance:
            report = import_file(file, agent=agent, fmt=chosen, progress=advance)
        flushed = sdk.flush(timeout=None)
    finally:
        sdk.shutdown(timeout=30)
    out: dict[str, Any] = {**report.to_dict(), "delivered": bool(flushed),
                           "runs_per_s": round(report.runs / report.seconds, 1)
                           if report.seconds > 0 else None}  # fmt: skip
    if as_json:
        print_json(out)
    else:
        console.print(
            f"imported {report.runs} runs ({report.spans} spans, {report.tool_calls} tool calls) "
            f"from {file} [{chosen}]: {report.invalid_calls} invalid calls, "
            f"{report.policy_hits} policy hits", markup=False, soft_wrap=True,
        )  # fmt: skip
    if not flushed or report.failed:
        err_console.print(f"error: not everything was stored: {flushed!r}, "
                          f"{report.failed} conversations failed", markup=False)  # fmt: skip
        raise typer.Exit(1)


class _progress:
    """A Rich progress bar on stderr over the file's runs (off for --json or without a terminal)."""

    def __init__(self, total: int, show: bool) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self._bar = Progress(
            "importing", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=err_console.rich(), transient=True, disable=not show or not err_console.is_terminal,
        )  # fmt: skip
        self._task = self._bar.add_task("import", total=total)

    def __enter__(self) -> Any:
        self._bar.__enter__()
        return lambda n: self._bar.advance(self._task, n)

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(None, None, None)
