"""The HTTP edge: thin blueprints that parse, call a use case, commit and serialise."""
