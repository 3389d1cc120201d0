"""The libcst rule engine: rule base class, batched traversal, suppressions, fixes, cache."""
