"""Behaviour in the core: profiles, per-run checks, run views, context features, schema inference."""
