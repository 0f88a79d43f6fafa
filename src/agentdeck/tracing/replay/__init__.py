"""Replay: re-running a recorded run from its recording, and what it reports."""
