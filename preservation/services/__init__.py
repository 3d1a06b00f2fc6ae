"""Use cases: they take a unit of work, flush, and never commit."""
