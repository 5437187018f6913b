"""The one place the version is written (read by ``pyproject.toml`` at build time)."""

__version__ = "0.1.0"
