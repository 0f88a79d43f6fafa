"""Adding a production run to an eval suite: a suite file, or a suite stored in the database.

The case is made by :func:`agentdeck.core.evals.dataset.case_from_run` (input, recorded tool
responses as fixtures, expectation typed or taken from the run's outcome) and validated as
part of its suite before anything is written. A suite file keeps its comments: the case is
appended as text when the file ends with its ``cases`` list, else the file is rewritten. A
stored suite (``dataset_cases``, migration 0019_annotations) is what the API and the UI add
to; ``agentdeck eval NAME`` runs it, and :func:`suite_document` exports it as a file.

A stored suite belongs to one project: the project of the runs its cases were made of (a run
added must be of the request's project, so every case's run is). A suite name is unique on a
server, owned by the project that added its first case; a suite whose runs were all erased is
the default project's, as before projects.
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

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.annotations.records import DatasetCase
from agentdeck.core.errors import ConflictError, InputError, SpecError
from agentdeck.core.evals.dataset import case_from_run
from agentdeck.core.evals.suite import Suite, parse_suite
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.core.yaml_bounded import parse_yaml_text
from agentdeck.store.protocol import AnnotationStore, FeedbackStore, ProjectStore, TraceStore
from agentdeck.tracing.analysis.queries import find_trace_id

SUITE_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,99}$")


class DatasetStore(TraceStore, FeedbackStore, AnnotationStore, ProjectStore, Protocol):
    """Runs and their spans and feedback to read; stored suites to write."""


class SuiteStore(AnnotationStore, ProjectStore, Protocol):
    """Stored suites and the projects of their cases' runs."""


def suite_project(store: SuiteStore, name: str) -> str | None:
    """The project that owns the stored suite ``name`` (None: no such suite): that of its
    oldest case whose run is still stored, else the default project."""
    cases = store.dataset_cases(name)
    if not cases:
        return None
    owners = store.run_projects([c.trace_id for c in cases])
    return next((owners[c.trace_id] for c in cases if c.trace_id in owners), DEFAULT_PROJECT)


def suite_names(store: SuiteStore, project: str | None = None) -> list[tuple[str, int]]:
    """Each stored suite with its number of cases; ``project``: only that project's."""
    names = store.dataset_names()
    if project is None:
        return names
    return [(n, c) for n, c in names if suite_project(store, n) == project]


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
    project: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The run's id and the case made of it, validated (errors name the option or field);
    ``project``: only a run of that project (another project's is not found)."""
    tid = find_trace_id(store, run_id, project)
    run = store.get_run(tid)
    if run is None or (project is not None and run.project != project):
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
    project: str | None = None,
) -> AddedCase:
    """Add the run as a case of the stored suite ``suite`` (audited); ``project``: the run
    must be of that project, and so must the suite when it exists (409 otherwise)."""
    if not SUITE_NAME.match(suite):
        raise InputError(
            f"{where}suite: a suite name is lowercase letters, digits, _ . - (got {suite!r})"
        )
    if project is not None:
        owner = suite_project(store, suite)
        if owner is not None and owner != project:
            raise ConflictError(f"{where}suite: suite {suite!r} belongs to another project")
    tid, case = build_case(
        store, run_id, expect=expect, case_id=case_id, where=where, project=project
    )
    item = DatasetCase(suite, case["id"], case, tid, by, now or datetime.now(UTC))
    detail = {"case_id": case["id"], "trace_id": tid}
    audit = AuditEvent(by, "suite.add_run", suite, detail, project or DEFAULT_PROJECT)
    store.put_dataset_case(item, audit)
    return AddedCase(suite, "stored", case, tid)


def suite_document(store: SuiteStore, name: str, project: str | None = None) -> dict[str, Any]:
    """A stored suite as a suite file's content (``agentdeck eval`` reads it); ``project``:
    another project's suite is not found."""
    cases = store.dataset_cases(name)
    if not cases or (project is not None and suite_project(store, name) != project):
        raise SpecError(name, None, "no such suite file, and no stored suite of that name")
    return {
        "name": name,
        "description": f"Cases made from production runs (agentdeck suite add-run --suite {name}).",
        "cases": [dict(c.case) for c in cases],
    }


def stored_suite(store: SuiteStore, name: str, project: str | None = None) -> Suite:
    return parse_suite(suite_document(store, name, project), f"stored suite {name}")


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
    project: str | None = None,
) -> AddedCase:
    """Append the run as a case of the suite file ``path`` (created when missing, with
    ``paths`` to import the agent from, relative to the file); ``project``: only a run of
    that project."""
    from agentdeck.registry.specfile import load_yaml

    tid, case = build_case(
        store, run_id, expect=expect, case_id=case_id, where=where, project=project
    )
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
