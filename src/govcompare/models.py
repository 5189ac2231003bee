"""The data govcompare works on: frameworks (validated, from YAML) and documents and passages (from a corpus).

Framework models are strict pydantic models: unknown keys are errors, instances are immutable, and YAML keys
are kebab-case (``key-terms``) mapped to snake_case attributes (``key_terms``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "Dimension",
    "DimensionSet",
    "Document",
    "Framework",
    "InputRecord",
    "InputStatus",
    "Passage",
    "Principle",
    "Silence",
    "Source",
    "SourceRef",
]

Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$", max_length=80),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class Strict(BaseModel):
    """Base of every framework model: unknown keys are errors, instances are frozen."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=_kebab,
        populate_by_name=True,
        str_strip_whitespace=True,
    )


class Dimension(Strict):
    """An axis of comparison shared by all frameworks."""

    id: Slug
    name: Text
    definition: Text = Field(description="What the dimension covers, in our own words.")


class DimensionSet(Strict):
    """The contents of ``dimensions.yaml``."""

    dimensions: list[Dimension] = Field(min_length=1)

    def ids(self) -> list[str]:
        return [d.id for d in self.dimensions]

    def get(self, dimension_id: str) -> Dimension:
        for d in self.dimensions:
            if d.id == dimension_id:
                return d
        raise KeyError(dimension_id)


class Source(Strict):
    """A document a framework rests on."""

    id: Slug
    title: Text
    publisher: Text
    date: dt.date | None = None
    url: Text | None = None
    file: Text | None = Field(default=None, description="Path of a local copy, if there is one.")

    @model_validator(mode="after")
    def _url_or_file(self) -> Source:
        if self.url is None and self.file is None:
            raise ValueError("a source needs a url or a file")
        return self


class SourceRef(Strict):
    """A principle's citation: which source, and where in it."""

    source: Slug = Field(description="The id of a source listed in the framework's sources.")
    locator: Text = Field(description="Section, chapter or passage the principle rests on.")


class Principle(Strict):
    """One position a framework holds, placed on a dimension."""

    id: Slug = Field(description="Unique across all frameworks compared, e.g. cn-cyber-sovereignty.")
    dimension: Slug
    title: Text
    statement: Text = Field(description="What this side holds, in our words: the position, not the topic.")
    key_terms: list[Text] = Field(min_length=1, description="Words and phrases typical of the position.")
    exemplars: list[Text] = Field(
        min_length=1, description="How texts of this position typically say it, written by us."
    )
    opposite_terms: list[Text] = Field(
        default_factory=list, description="Terms that signal the opposing position."
    )
    sources: list[SourceRef] = Field(min_length=1)


class Silence(Strict):
    """An explicit statement that a framework takes no position on a dimension."""

    dimension: Slug
    reason: Text


class Framework(Strict):
    """A governance position: a set of principles with the sources they rest on."""

    id: Slug
    name: Text
    actors: list[Text] = Field(min_length=1)
    summary: Text
    version: Text
    date: dt.date
    sources: list[Source] = Field(min_length=1)
    principles: list[Principle] = Field(min_length=1)
    silent: list[Silence] = Field(default_factory=list)

    def principle(self, principle_id: str) -> Principle:
        for p in self.principles:
            if p.id == principle_id:
                return p
        raise KeyError(principle_id)

    def dimensions(self) -> list[str]:
        """Dimensions this framework holds principles on, in order of first appearance."""
        return list(dict.fromkeys(p.dimension for p in self.principles))


InputStatus = Literal["read", "duplicate", "empty", "unsupported", "failed"]


@dataclass(frozen=True, slots=True)
class Document:
    """A corpus document: normalised text plus metadata. Offsets in passages index ``text``."""

    id: str
    path: str
    text: str
    sha256: str
    title: str
    date: str | None = None
    actor: str | None = None
    source_url: str | None = None
    language: str | None = None
    kind: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class InputRecord:
    """What happened to one input file: every file found ends up here, read or not."""

    path: str
    status: InputStatus
    sha256: str | None = None
    bytes: int = 0
    document: str | None = None
    reason: str | None = None


class Passage:
    """A span of a document's normalised text: ``document.text[start:end] == text``.

    ``Passage(document, number, start, end, text)`` holds its text; :meth:`within` makes one that keeps a
    reference to the whole document's text and slices its own when asked (``text``), so the passages of
    a corpus do not hold a second copy of it. Either way a passage compares and hashes by
    ``(document, number, start, end, text)`` and cannot be changed; pickled, it carries what it refers to
    (the passages of one document pickled together carry its text once).
    """

    __slots__ = ("_base", "_source", "document", "end", "number", "start")

    document: str
    number: int
    start: int
    end: int
    _source: str  # the passage's text, or its document's whole text
    _base: int  # the offset of ``_source`` in the document's text

    def __init__(self, document: str, number: int, start: int, end: int, text: str) -> None:
        self._set(document, number, start, end, text, start)

    @classmethod
    def within(cls, document: str, number: int, start: int, end: int, source: str) -> Passage:
        """The passage ``source[start:end]`` of the document whose whole text is ``source``."""
        passage = cls.__new__(cls)
        passage._set(document, number, start, end, source, 0)
        return passage

    def _set(self, document: str, number: int, start: int, end: int, source: str, base: int) -> None:
        setattr_ = object.__setattr__  # (a million passages are made per run: no loop here)
        setattr_(self, "document", document)
        setattr_(self, "number", number)
        setattr_(self, "start", start)
        setattr_(self, "end", end)
        setattr_(self, "_source", source)
        setattr_(self, "_base", base)

    @property
    def text(self) -> str:
        return self._source[self.start - self._base : self.end - self._base]

    def _key(self) -> tuple[str, int, int, int, str]:
        return (self.document, self.number, self.start, self.end, self.text)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Passage is immutable: cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Passage is immutable: cannot delete {name}")

    def __eq__(self, other: object) -> bool:
        return self._key() == other._key() if isinstance(other, Passage) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Passage(document={self.document!r}, number={self.number!r}, start={self.start!r}, "
            f"end={self.end!r}, text={self.text!r})"
        )

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Passages of one document pickled together share its text once (pickle keeps one copy of an object).
        return (_restore, (self.document, self.number, self.start, self.end, self._source, self._base))


def _restore(document: str, number: int, start: int, end: int, source: str, base: int) -> Passage:
    passage = Passage.__new__(Passage)
    passage._set(document, number, start, end, source, base)
    return passage
