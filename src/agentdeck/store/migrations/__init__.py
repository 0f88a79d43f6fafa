"""Alembic migrations of the agentdeck store: one ordered history for SQLite and PostgreSQL."""
