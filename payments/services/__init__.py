"""Use cases. Each public method owns one transaction: it commits, or rolls back on error."""
