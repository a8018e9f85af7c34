"""The package version (read by ``pyproject.toml`` and written into every saved file)."""

__version__ = "0.2.0"
