"""preservation-tracker: record preservation duties and verify them in the storage itself."""

__version__ = "0.1.0"
