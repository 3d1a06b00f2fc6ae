"""Typed settings read once from PRESERVATION_* environment variables, and logging setup."""

from config.settings import Settings, SettingsError

__all__ = ["Settings", "SettingsError"]
