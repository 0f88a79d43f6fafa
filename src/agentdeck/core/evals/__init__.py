"""Evals in the core: suites, matchers, results and online scores."""
