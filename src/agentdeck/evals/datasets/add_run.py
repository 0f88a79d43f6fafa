"""Adding a production run to an eval suite: a suite file, or a suite stored in the database.

The case is made by :func:`agentdeck.core.evals.dataset.case_from_run` (input, recorded tool
responses as fixtures, expectation typed or taken from the run's outcome) and validated as
part of its suite before anything is written. A suite file keeps its comments: the case is
appended as text when the file ends with its ``cases`` list, else the file is rewritten. A
stored suite (``dataset_cases``, migration 0019_annotations) is what the API and the UI add
to; ``agentdeck eval NAME`` runs it, and :func:`suite_document` exports it as a file.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import yaml

from agentdeck.core.annotations.records import DatasetCase
from agentdeck.core.errors import ConflictError, InputError, SpecError
from agentdeck.core.evals.dataset import case_from_run
from agentdeck.core.evals.suite import Suite, parse_suite
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.core.yaml_bounded import parse_yaml_text
from agentdeck.store.protocol import AnnotationStore, FeedbackStore, TraceStore
from agentdeck.tracing.analysis.queries import find_trace_id

SUITE_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,99}$")


class DatasetStore(TraceStore, FeedbackStore, AnnotationStore, Protocol):
    """Runs and their spans and feedback to read; stored suites to write."""


@dataclass(frozen=True)
class AddedCase:
    suite: str  # the suite's name
    where: str  # the file written, or "stored"
    case: Mapping[str, Any]
    trace_id: str


def parse_expect(text: str | Mapping[str, Any] | None, where: str) -> Mapping[str, Any] | None:
    """An expectation as the reviewer typed it: YAML or JSON text (``@path`` reads a file),
    or a mapping already parsed; errors name ``where`` + ``expect``."""
    if text is None or isinstance(text, Mapping):
        return text
    field = f"{where}expect"
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{field}: cannot read {text[1:]}: {exc.strerror or exc}") from None
    data = parse_yaml_text(text, field)
    if not isinstance(data, Mapping):
        raise InputError(f"{field}: expected a mapping such as '{{not_called: [issue_refund]}}'")
    return data


def _note(store: DatasetStore, trace_id: str) -> str:
    """The run's newest feedback, for the case's description and errors."""
    fb = store.list_feedback(trace_id)
    if not fb:
        return ""
    last = fb[-1]
    said = " ".join(p for p in (last.label or "", f"score {last.score:g}" if last.score is not None
                                else "", f"'{last.comment}'" if last.comment else "") if p)  # fmt: skip
    return f" (feedback by {last.by}: {said})"


def build_case(
    store: DatasetStore,
    run_id: str,
    *,
    expect: Mapping[str, Any] | None,
    case_id: str | None,
    where: str,
) -> tuple[str, dict[str, Any]]:
    """The run's id and the case made of it, validated (errors name the option or field)."""
    tid = find_trace_id(store, run_id)
    run = store.get_run(tid)
    if run is None:
        raise InputError(f"{run_id}: no run with that id")
    if store.sampled_out([tid]):
        raise InputError(f"{run_id}: its spans were dropped by ingest sampling; no fixtures")
    case = case_from_run(
        run, store.get_spans(tid), case_id=case_id, expect=expect,
        feedback_note=_note(store, tid), where=where,
    )  # fmt: skip
    try:
        parse_suite({"name": "check", "cases": [case]}, f"{where}expect")
    except SpecError as exc:
        field = (exc.field or "").replace("cases[0].expect", f"{where}expect")
        field = field.replace("cases[0].", where)
        raise InputError(f"{field or where + 'expect'}: {exc.reason}") from None
    return tid, case


def add_to_stored(
    store: DatasetStore,
    run_id: str,
    suite: str,
    *,
    by: str,
    expect: Mapping[str, Any] | None = None,
    case_id: str | None = None,
    where: str = "--",
    now: datetime | None = None,
) -> AddedCase:
    """Add the run as a case of the stored suite ``suite`` (audited)."""
    if not SUITE_NAME.match(suite):
        raise InputError(
            f"{where}suite: a suite name is lowercase letters, digits, _ . - (got {suite!r})"
        )
    tid, case = build_case(store, run_id, expect=expect, case_id=case_id, where=where)
    item = DatasetCase(suite, case["id"], case, tid, by, now or datetime.now(UTC))
    audit = AuditEvent(by, "suite.add_run", suite, {"case_id": case["id"], "trace_id": tid})
    store.put_dataset_case(item, audit)
    return AddedCase(suite, "stored", case, tid)


def suite_document(store: AnnotationStore, name: str) -> dict[str, Any]:
    """A stored suite as a suite file's content (``agentdeck eval`` reads it)."""
    cases = store.dataset_cases(name)
    if not cases:
        raise SpecError(name, None, "no such suite file, and no stored suite of that name")
    return {
        "name": name,
        "description": f"Cases made from production runs (agentdeck suite add-run --suite {name}).",
        "cases": [dict(c.case) for c in cases],
    }


def stored_suite(store: AnnotationStore, name: str) -> Suite:
    return parse_suite(suite_document(store, name), f"stored suite {name}")


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def add_to_file(
    store: DatasetStore,
    run_id: str,
    path: Path,
    *,
    expect: Mapping[str, Any] | None = None,
    case_id: str | None = None,
    paths: Sequence[str] = (),
    where: str = "--",
) -> AddedCase:
    """Append the run as a case of the suite file ``path`` (created when missing, with
    ``paths`` to import the agent from, relative to the file)."""
    from agentdeck.registry.specfile import load_yaml

    tid, case = build_case(store, run_id, expect=expect, case_id=case_id, where=where)
    if path.exists():
        doc = load_yaml(path)
        if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list):
            raise SpecError(str(path), "cases", "not an eval suite (no cases list)")
        old = path.read_text(encoding="utf-8")
    else:
        stem = re.sub(r"[^a-z0-9_.-]", "-", path.stem.lower()).lstrip("0123456789_.-") or "suite"
        doc, old = {"name": stem[:100], "cases": []}, ""
        if paths:
            doc["paths"] = list(paths)
    if any(c.get("id") == case["id"] for c in doc["cases"] if isinstance(c, Mapping)):
        raise ConflictError(f"{path}: has a case {case['id']!r} already (choose --case-id)")
    new_doc = {**doc, "cases": [*doc["cases"], case]}
    parse_suite(new_doc, str(path))  # the whole suite still valid, or nothing written
    text = _appended(old, new_doc) if old else _dump(new_doc)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return AddedCase(str(new_doc["name"]), str(path), case, tid)


def _appended(old: str, new_doc: Mapping[str, Any]) -> str:
    """``old`` with the last case appended as text (comments kept) when that reads back as
    ``new_doc``; else the whole document rewritten."""
    items = re.findall(r"^( *)- ", old[old.rfind("\ncases:") :], re.M) if "\ncases:" in old else []
    indent = items[0] if items else "  "
    block = _dump([new_doc["cases"][-1]])
    block = "".join(indent + line if line.strip() else line for line in block.splitlines(True))
    text = old if old.endswith("\n") else old + "\n"
    text = f"{text}\n{block}"
    try:
        if yaml.safe_load(text) == dict(new_doc):
            return text
    except yaml.YAMLError:
        pass
    return _dump(dict(new_doc))
