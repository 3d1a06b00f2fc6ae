"""Pure rules of the domain: standard library only, testable without a database."""
