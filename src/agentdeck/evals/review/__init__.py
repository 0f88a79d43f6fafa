"""Human review: annotation queues, labels, and the labels gate."""
