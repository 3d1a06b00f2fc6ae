"""WSGI entry point: `gunicorn wsgi:app`."""

from preservation.app import create_app

app = create_app()
