"""Deployments in the core: environments, deployments, gates, the audit chain."""
