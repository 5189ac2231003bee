"""Framework files: YAML -> validated :class:`Framework` objects, with every problem located.

``parse_*`` functions are pure (text in, models out); ``load_frameworks`` reads files and calls them.
Every problem in a file is reported at once as ``path:line:col: field.path: message``.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from govcompare.errors import FrameworkError, Problem
from govcompare.models import Dimension, DimensionSet, Framework, Principle
from govcompare.yamlsafe import Located, YamlLimits, parse_yaml

__all__ = [
    "DIMENSIONS_FILE",
    "FrameworkSet",
    "json_schemas",
    "load_frameworks",
    "parse_dimensions",
    "parse_framework",
]

DIMENSIONS_FILE = "dimensions.yaml"
SCHEMA_FILES = {"framework": "framework.schema.json", "dimensions": "dimensions.schema.json"}


@dataclass(frozen=True)
class FrameworkSet:
    """Shared dimensions plus the frameworks placed on them, in a stable order."""

    dimensions: DimensionSet
    frameworks: tuple[Framework, ...]
    paths: tuple[str, ...] = ()

    @property
    def ids(self) -> list[str]:
        return [f.id for f in self.frameworks]

    def get(self, framework_id: str) -> Framework:
        for f in self.frameworks:
            if f.id == framework_id:
                return f
        hint = _did_you_mean(framework_id, self.ids)
        raise FrameworkError([Problem("frameworks", 0, 0, "", f"no framework {framework_id!r}{hint}")])

    def principles(self) -> list[tuple[Framework, Principle]]:
        return [(f, p) for f in self.frameworks for p in f.principles]

    def principle(self, principle_id: str) -> tuple[Framework, Principle]:
        for f, p in self.principles():
            if p.id == principle_id:
                return f, p
        hint = _did_you_mean(principle_id, [p.id for _, p in self.principles()])
        raise FrameworkError([Problem("frameworks", 0, 0, "", f"no principle {principle_id!r}{hint}")])

    def dimension(self, dimension_id: str) -> Dimension:
        return self.dimensions.get(dimension_id)


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _allowed_keys(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The YAML keys allowed at ``loc`` (the location of an unknown key) inside ``model``."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        fields = {(f.alias or name): f for name, f in current.model_fields.items()}
        annotation = fields[part].annotation if part in fields else None
        current = _model_in(annotation)
    if current is None:
        return []
    return [f.alias or name for name, f in current.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


_MESSAGES = {
    "missing": "required field is missing",
    "list_type": "expected a list",
    "dict_type": "expected a mapping of keys to values",
    "model_type": "expected a mapping of keys to values",
    "string_type": "expected text (put numbers, dates and yes/no in quotes)",
    "date_from_datetime_inexact": "expected a date like 2022-11-07",
    "date_parsing": "expected a date like 2022-11-07",
    "date_type": "expected a date like 2022-11-07",
    "too_short": "needs at least {min_length} item(s)",
    "string_too_short": "must not be empty",
    "string_pattern_mismatch": "use lowercase letters, digits, '-' and '.' (e.g. cn-cyber-sovereignty)",
    "string_too_long": "is longer than {max_length} characters",
}


def _problems_from(
    exc: ValidationError, located: Located, model: type[BaseModel], source: str
) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        kind = err["type"]
        line, column = located.key_positions.get(loc) or located.position(loc)
        if kind == "extra_forbidden":
            key = str(loc[-1])
            message = f"unknown key {key!r}{_did_you_mean(key, _allowed_keys(model, loc))}"
        elif kind in _MESSAGES:
            message = _MESSAGES[kind].format(**(err.get("ctx") or {}))
        else:
            message = err["msg"][0].lower() + err["msg"][1:]
            message = message.removeprefix("value error, ")
        problems.append(Problem(source, line, column, _dotted(loc), message))
    return problems


def _validate(
    data: bytes | str, model: type[BaseModel], source: str, limits: YamlLimits | None
) -> tuple[Any, Located]:
    try:
        located = parse_yaml(data, source=source, limits=limits)
    except ValueError as exc:
        raise FrameworkError([exc.args[0]]) from None
    if not isinstance(located.value, dict):
        raise FrameworkError([Problem(source, 1, 1, "", "expected a mapping of keys to values")])
    try:
        return model.model_validate(located.value), located
    except ValidationError as exc:
        raise FrameworkError(_problems_from(exc, located, model, source)) from None


def parse_dimensions(
    data: bytes | str, *, source: str = "<dimensions>", limits: YamlLimits | None = None
) -> DimensionSet:
    """Parse the shared dimensions file."""
    dims, located = _validate(data, DimensionSet, source, limits)
    assert isinstance(dims, DimensionSet)
    problems = [
        Problem(
            source,
            *located.position(("dimensions", i, "id")),
            f"dimensions[{i}].id",
            f"duplicate dimension id {d.id!r}",
        )
        for i, d in enumerate(dims.dimensions)
        if d.id in {e.id for e in dims.dimensions[:i]}
    ]
    if problems:
        raise FrameworkError(problems)
    return dims


def parse_framework(
    data: bytes | str,
    *,
    source: str = "<framework>",
    dimensions: DimensionSet | None = None,
    limits: YamlLimits | None = None,
) -> Framework:
    """Parse one framework and check its internal references (and dimensions, when given)."""
    framework, located = _validate(data, Framework, source, limits)
    assert isinstance(framework, Framework)
    problems = _check_references(framework, located, source, dimensions)
    if problems:
        raise FrameworkError(problems)
    return framework


def _check_references(
    fw: Framework, located: Located, source: str, dimensions: DimensionSet | None
) -> list[Problem]:
    problems: list[Problem] = []

    def add(path: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem(source, *located.position(path), _dotted(path), message))

    for kind, ids in (
        ("source", [s.id for s in fw.sources]),
        ("principle", [p.id for p in fw.principles]),
    ):
        seen: set[str] = set()
        for i, item_id in enumerate(ids):
            if item_id in seen:
                add((f"{kind}s", i, "id"), f"duplicate {kind} id {item_id!r}: ids must be unique")
            seen.add(item_id)
    source_ids = [s.id for s in fw.sources]
    for i, p in enumerate(fw.principles):
        for j, ref in enumerate(p.sources):
            if ref.source not in source_ids:
                add(
                    ("principles", i, "sources", j, "source"),
                    f"source {ref.source!r} is not listed in sources{_did_you_mean(ref.source, source_ids)}",
                )
    if dimensions is not None:
        dim_ids = dimensions.ids()
        held = set()
        for i, p in enumerate(fw.principles):
            held.add(p.dimension)
            if p.dimension not in dim_ids:
                add(
                    ("principles", i, "dimension"),
                    f"dimension {p.dimension!r} is not defined in {DIMENSIONS_FILE}"
                    f"{_did_you_mean(p.dimension, dim_ids)}",
                )
        for i, s in enumerate(fw.silent):
            if s.dimension not in dim_ids:
                add(
                    ("silent", i, "dimension"),
                    f"dimension {s.dimension!r} is not defined in {DIMENSIONS_FILE}"
                    f"{_did_you_mean(s.dimension, dim_ids)}",
                )
            elif s.dimension in held:
                add(
                    ("silent", i, "dimension"),
                    f"the framework has principles on {s.dimension!r}: remove this silent entry",
                )
    return problems


def _framework_files(path: Path) -> tuple[Path, list[Path]]:
    """The dimensions file and framework files for a folder or a single framework file."""
    if path.is_dir():
        dims = path / DIMENSIONS_FILE
        files = sorted(
            p
            for p in path.iterdir()
            if p.suffix in {".yaml", ".yml"} and p.name != DIMENSIONS_FILE and p.is_file()
        )
    else:
        dims = path.parent / DIMENSIONS_FILE
        files = [path]
    return dims, files


def _read(path: Path, limits: YamlLimits) -> bytes:
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise FrameworkError(
                [
                    Problem(
                        str(path),
                        1,
                        1,
                        "",
                        f"file is {size:,} bytes, over the {limits.max_bytes:,}-byte limit for YAML",
                    )
                ]
            )
        return path.read_bytes()
    except OSError as exc:
        raise FrameworkError([Problem(str(path), 0, 0, "", f"cannot read: {exc.strerror or exc}")]) from None


def load_frameworks(
    paths: str | Path | Sequence[str | Path] = "frameworks", *, limits: YamlLimits | None = None
) -> FrameworkSet:
    """Load the dimensions and frameworks from folders or framework files.

    A folder holds ``dimensions.yaml`` and one ``*.yaml`` per framework; a framework file is read with
    the ``dimensions.yaml`` beside it. Every problem in every file is reported in one FrameworkError.
    """
    limits = limits or YamlLimits()
    items = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    problems: list[Problem] = []
    dimension_sets: dict[Path, DimensionSet] = {}
    frameworks: list[tuple[Path, Framework]] = []
    for item in items:
        if not item.exists():
            problems.append(
                Problem(
                    str(item),
                    0,
                    0,
                    "",
                    "no such file or folder: give the folder holding dimensions.yaml and the framework "
                    "YAML files, or framework files (--frameworks)",
                )
            )
            continue
        dims_path, files = _framework_files(item)
        if not dims_path.is_file():
            problems.append(
                Problem(
                    str(dims_path),
                    0,
                    0,
                    "",
                    f"missing: put {DIMENSIONS_FILE} next to the framework files",
                )
            )
            continue
        if dims_path not in dimension_sets:
            try:
                dimension_sets[dims_path] = parse_dimensions(
                    _read(dims_path, limits), source=str(dims_path), limits=limits
                )
            except FrameworkError as exc:
                problems.extend(exc.problems)
                continue
        if not files:
            problems.append(Problem(str(item), 0, 0, "", "no framework files (*.yaml) here"))
        for file in files:
            try:
                fw = parse_framework(
                    _read(file, limits),
                    source=str(file),
                    dimensions=dimension_sets[dims_path],
                    limits=limits,
                )
            except FrameworkError as exc:
                problems.extend(exc.problems)
                continue
            frameworks.append((file, fw))
    if len(dimension_sets) > 1 and len({d.ids().__repr__() for d in dimension_sets.values()}) > 1:
        problems.append(
            Problem(
                str(items[0]),
                0,
                0,
                "",
                "frameworks come from folders with different dimensions.yaml files",
            )
        )
    problems.extend(_check_across(frameworks))
    if problems:
        raise FrameworkError(problems)
    if not frameworks:
        raise FrameworkError([Problem(str(items[0]), 0, 0, "", "no frameworks found")])
    return FrameworkSet(
        dimensions=next(iter(dimension_sets.values())),
        frameworks=tuple(fw for _, fw in frameworks),
        paths=tuple(str(p) for p, _ in frameworks),
    )


def _check_across(frameworks: list[tuple[Path, Framework]]) -> list[Problem]:
    problems = []
    fw_ids = Counter(fw.id for _, fw in frameworks)
    principle_ids = Counter(p.id for _, fw in frameworks for p in fw.principles)
    for path, fw in frameworks:
        if fw_ids[fw.id] > 1:
            problems.append(Problem(str(path), 1, 1, "id", f"framework id {fw.id!r} is used by another file"))
        for i, p in enumerate(fw.principles):
            if principle_ids[p.id] > 1 and sum(q.id == p.id for q in fw.principles) == 1:
                problems.append(
                    Problem(
                        str(path),
                        1,
                        1,
                        f"principles[{i}].id",
                        f"principle id {p.id!r} is also used by another framework",
                    )
                )
    return problems


def json_schemas() -> dict[str, str]:
    """The JSON Schemas for framework and dimensions files, by file name, as stable text."""
    out = {}
    for kind, model in (("framework", Framework), ("dimensions", DimensionSet)):
        schema = model.model_json_schema(by_alias=True)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = f"govcompare {kind} file"
        out[SCHEMA_FILES[kind]] = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return out
