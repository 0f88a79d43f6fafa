"""Reading recorded traces: run trees, execution graphs, root-cause analysis."""
