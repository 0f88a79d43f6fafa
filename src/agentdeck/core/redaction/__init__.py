"""Redaction in the core: masking secrets in JSON values before anything is stored."""
