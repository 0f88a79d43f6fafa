"""Specs in the core: agent/tool/model specs, canonical digests, references, diffs, file schemas."""
