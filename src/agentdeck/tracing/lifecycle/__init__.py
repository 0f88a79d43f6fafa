"""Data lifecycle: delete runs (by id, session, user or query; audited without their content),
retention per environment (``gc``), and export of runs and spans as JSONL or Parquet."""
