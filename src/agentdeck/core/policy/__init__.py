"""Policies in the core: the file format, CEL compilation and evaluation, static facts, coverage."""
