"""Human review: label schemas, annotation queues and their labels, and run sampling (pure)."""
