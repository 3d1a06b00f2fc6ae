"""The scheduler process: a declarative registry of jobs run by their own process, never by the web app."""
