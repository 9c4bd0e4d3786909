"""Bad user input: a `Problem` names where (file, line, field) and what; a `ConfigError`
carries every problem found and exits the CLI with code 2.

The subclasses only change the heading, so the user reads first what kind of thing is
wrong (a configuration, an output directory, a run directory, a decision rule, ...).
"""

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
    heading = "Invalid configuration"

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
            return f"{self.heading}: {self.problems[0]}"
        lines = [f"{self.heading} ({len(self.problems)} problems):"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


class OptionError(ConfigError):
    """A command-line option the command cannot use."""

    heading = "Invalid option"


class OutputError(ConfigError):
    """An output path that would destroy or mix with something that is not ours."""

    heading = "Invalid output directory"


class RunDirError(ConfigError):
    """A run directory (manifest, Parquet outputs) that cannot be read as one."""

    heading = "Invalid run directory"


class BatchDirError(ConfigError):
    """A batch directory that --resume cannot continue."""

    heading = "Invalid batch directory"


class RuleError(ConfigError):
    """A decision rule that cannot be imported or called as documented."""

    heading = "Invalid decision rule"


class ExperimentError(ConfigError):
    """An experiment file, or a scenario or draw it asks for, that is not valid."""

    heading = "Invalid experiment"


class TooLarge(ConfigError):
    """Valid input that needs more memory, time or disk than the machine can give."""

    heading = "Too large for this machine"
