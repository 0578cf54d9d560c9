"""The one error type for bad input: it names the file, the field and what is allowed."""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad input found before a run starts (exit code 2 at the command line)."""

    def __init__(self, file: str, field: str, message: str) -> None:
        self.file = str(file)
        self.field = field
        self.message = message
        super().__init__(f"{self.file}: {field}: {message}" if field else f"{self.file}: {message}")
