"""Datasets from production: eval cases made from recorded runs."""
