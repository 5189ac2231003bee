"""What every reader shares: its signature, its result, the size limits and metadata helpers.

A reader is a function ``(data: bytes, limits: Limits) -> ReadResult``. It parses bytes and never
opens files (the corpus does that). A file it cannot read raises ``CorpusError`` with a reason that
says what is wrong and what to do, e.g. ``encrypted PDF: remove the password and try again``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from govcompare.errors import CorpusError

__all__ = [
    "FIELDS",
    "MB",
    "Limits",
    "ReadResult",
    "Reader",
    "megabytes",
    "parse_date",
    "split_metadata",
]

MB = 1_000_000  # decimal megabytes, as the CLI's --max-file-mb counts them
FIELDS = ("title", "date", "actor", "source_url", "language", "kind")
_ALIASES = {"side": "actor", "url": "source_url"}


@dataclass(frozen=True, slots=True)
class Limits:
    """Upper bounds that keep one hostile or huge file from stalling a run."""

    max_file_bytes: int = 50 * MB
    max_pdf_pages: int = 2000
    max_decompressed_bytes: int = 200 * MB
    max_chars: int = 20_000_000

    def __post_init__(self) -> None:
        for name in ("max_file_bytes", "max_pdf_pages", "max_decompressed_bytes", "max_chars"):
            if getattr(self, name) <= 0:
                raise CorpusError(f"limit {name} must be positive, got {getattr(self, name)}")


@dataclass(frozen=True, slots=True)
class ReadResult:
    """A reader's output: raw text (the corpus normalises it) and what the file says about itself.

    ``metadata`` holds the known fields (see ``FIELDS``), ``extra`` any other scalar metadata, and
    ``heading`` a title found in the content (first heading), used when no metadata names one.
    """

    text: str
    metadata: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    heading: str | None = None


Reader = Callable[[bytes, Limits], ReadResult]


def megabytes(n: int) -> str:
    """``50000000`` -> ``"50 MB"``, one decimal where it matters; smaller sizes in kB or bytes."""
    if n < 1000:
        return f"{n} byte" if n == 1 else f"{n} bytes"
    unit, size = ("MB", MB) if n >= MB else ("kB", 1000)
    return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"


_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%B %d, %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d %Y",
)
_ISO_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]")
_PDF_DATE = re.compile(r"^D:(\d{4})(\d{2})(\d{2})")
_ORDINAL = re.compile(r"(\d)(st|nd|rd|th)\b")


def parse_date(value: object) -> str | None:
    """An ISO ``YYYY-MM-DD`` string for a date-like value, or ``None`` if it is not one.

    Accepts ``date``/``datetime`` objects, ISO dates and timestamps, PDF dates (``D:20230301...``)
    and English forms such as ``March 1, 2023`` or ``1 March 2023``.
    """
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        return None
    text = _ORDINAL.sub(r"\1", " ".join(value.split()))
    for pattern in (_ISO_PREFIX, _PDF_DATE):
        match = pattern.match(text)
        if match:
            text = "-".join(match.groups()) if pattern is _PDF_DATE else match.group(1)
            break
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _scalar(value: object) -> str | None:
    if value is None or isinstance(value, list | tuple | dict | set):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):  # also datetime
        return value.isoformat()
    return " ".join(str(value).split()) or None


def split_metadata(mapping: Mapping[object, object]) -> tuple[dict[str, str], dict[str, str]]:
    """Split front matter or file properties into known fields and ``extra`` scalar strings.

    ``side`` stands for ``actor`` and ``url`` for ``source_url`` (the full names win when both are
    given). A date that cannot be read stays in ``extra["date"]`` rather than being lost. Lists and
    mappings are left out: ``extra`` holds strings.
    """
    known: dict[str, str] = {}
    extra: dict[str, str] = {}
    for raw_key, raw_value in mapping.items():
        key = str(raw_key).strip().lower().replace("-", "_")
        name = _ALIASES.get(key, key)
        if name == "date":
            iso = parse_date(raw_value)
            if iso is not None:
                known["date"] = iso
                continue
        value = _scalar(raw_value)
        if value is None:
            continue
        if name in FIELDS and name != "date":
            if key == name or name not in known:
                known[name] = value
        else:
            extra[str(raw_key)] = value
    return known, extra
