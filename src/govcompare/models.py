"""The data govcompare works on: frameworks (validated, from YAML) and documents and passages (from a corpus).

Framework models are strict pydantic models: unknown keys are errors, instances are immutable, and YAML keys
are kebab-case (``key-terms``) mapped to snake_case attributes (``key_terms``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Literal

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


@dataclass(frozen=True, slots=True)
class Passage:
    """A span of a document's normalised text: ``document.text[start:end] == text``."""

    document: str
    number: int
    start: int
    end: int
    text: str
