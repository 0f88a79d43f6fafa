"""OTLP JSON files as the OpenTelemetry collector's file exporter writes them: one
``ExportTraceServiceRequest`` a line. Decoded by the OTLP receiver's own path, all lines at once
so that a trace split over several lines becomes one run."""

from __future__ import annotations

from pathlib import Path

from agentdeck.tracing.imports.files import ImportFileError, iter_lines
from agentdeck.tracing.otlp.decode import DecodeResult, decode_raw
from agentdeck.tracing.otlp.wire import OtlpDecodeError, RawSpan, RejectedSpan, raw_spans_from_json

__all__ = ["read_otlp_file"]


def read_otlp_file(path: Path) -> DecodeResult:
    """Every span and run of the file; a line that does not decode, or holds a span the
    receiver would reject, raises ImportFileError naming the line."""
    raws: list[RawSpan] = []
    for number, line in iter_lines(path):
        try:
            spans, rejected = raw_spans_from_json(line)
        except OtlpDecodeError as exc:
            raise ImportFileError(path, number, str(exc)) from None
        if rejected:
            raise ImportFileError(path, number, f"span rejected: {rejected[0]}")
        raws.extend(spans)
    if not raws:
        raise ImportFileError(path, 1, "no spans in the file")
    no_rejections: list[RejectedSpan] = []
    return decode_raw(raws, no_rejections)
