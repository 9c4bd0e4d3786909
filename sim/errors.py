"""Bad user input: a `Problem` names where (file, line, field) and what; a `ConfigError`
carries every problem found and exits the CLI with code 2."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str | None
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ConfigError(Exception):
    """Bad user input; str() is a short human message, `.problems` the details."""

    exit_code = 2

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__(self._message())

    @classmethod
    def single(
        cls, field: str, message: str, file: str | None = None, line: int | None = None
    ) -> ConfigError:
        return cls([Problem(file, line, field, message)])

    def _message(self) -> str:
        if len(self.problems) == 1:
            return f"Invalid configuration: {self.problems[0]}"
        lines = [f"Invalid configuration ({len(self.problems)} problems):"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)
