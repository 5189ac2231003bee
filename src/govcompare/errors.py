"""The one error tree of govcompare.

    GovCompareError                 anything the user can fix; the CLI prints it and exits 1
    ├── FrameworkError              a framework or dimensions file is invalid (one Problem per mistake)
    ├── CorpusError                 a corpus path, document or manifest cannot be used
    ├── MappingError                the mapper was misused (not fitted, empty corpus, bad parameter)
    ├── EvaluationError             a gold file is invalid or does not match the corpus
    └── ReportError                 an output location cannot be written

Only ``cli.py`` turns these into exit codes. Library code raises them with a message that names the
place and the fix, so the message can be shown to the user as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CorpusError",
    "EvaluationError",
    "FrameworkError",
    "GovCompareError",
    "MappingError",
    "Problem",
    "ReportError",
]


class GovCompareError(Exception):
    """Base class: a problem with the user's input or environment, never a bug."""

    def lines(self) -> list[str]:
        """The message as one line per problem."""
        return [line for line in str(self).splitlines() if line.strip()] or [type(self).__name__]


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a file, located at ``source:line:column``."""

    source: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        # Line 0: the file (or folder) as a whole, with no place inside it to name.
        where = f"{self.source}:{self.line}:{self.column}" if self.line else self.source
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class FrameworkError(GovCompareError):
    """A framework or dimensions file has one or more problems, all reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.source, p.line, p.column, p.field))
        super().__init__("\n".join(str(p) for p in self.problems))


class CorpusError(GovCompareError):
    """A corpus path, document or manifest cannot be used."""


class MappingError(GovCompareError):
    """The evidence mapper was misused or has nothing to work on."""


class EvaluationError(GovCompareError):
    """A gold-label file is invalid or does not match the corpus."""


class ReportError(GovCompareError):
    """A report cannot be written where asked."""
