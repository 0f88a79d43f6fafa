"""Traces in the core: runs and spans, the model-call contract, root-cause analysis."""
