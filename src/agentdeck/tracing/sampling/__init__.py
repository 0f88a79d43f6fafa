"""Ingest sampling: keep every failed run in full and a fraction of the successful ones."""
