"""The govcompare command line: parse options, call the library, write outputs, map errors to exit 1."""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from govcompare.errors import GovCompareError

app = typer.Typer(
    name="govcompare",
    help="Compare governance positions (YAML principle sets) against a corpus, with cited evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped output gets room for wide tables instead of rich's 80-column default.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 140)

P = ParamSpec("P")
R = TypeVar("R")

FrameworksOpt = Annotated[
    list[Path] | None,
    typer.Option("--frameworks", "-f", help="Framework folder or files (default: frameworks/)."),
]


CorpusArg = Annotated[list[Path], typer.Argument(help="Corpus folders or files.", show_default=False)]
CorpusOpt = Annotated[
    list[Path] | None, typer.Option("--corpus", "-c", help="Corpus folder or files (default: seeds/).")
]
TopKOpt = Annotated[int, typer.Option("--top-k", min=1, max=1000, help="Evidence passages per principle.")]
MinScoreOpt = Annotated[
    float | None,
    typer.Option(
        "--min-score", min=0.0, max=1.0, help="Evidence threshold (default: derived from chance scores)."
    ),
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Fail if any input file cannot be read, instead of skipping it.")
]
MaxFileOpt = Annotated[
    float,
    typer.Option("--max-file-mb", min=0.001, max=1e6, help="Skip (or with --strict, refuse) larger files."),
]
MaxPagesOpt = Annotated[int, typer.Option("--max-pages", min=1, help="Page limit per PDF.")]
MaxPassagesOpt = Annotated[int, typer.Option("--max-passages", min=1, help="Passage limit per document.")]
MaxCharsOpt = Annotated[
    int, typer.Option("--max-chars", min=1, help="Character limit per document (normalised text).")
]
MaxDecompressedOpt = Annotated[
    float,
    typer.Option(
        "--max-decompressed-mb",
        min=0.001,
        max=1e6,
        help="Limit on what a PDF's streams or a .docx unpack to.",
    ),
]

EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        help="Where the corpus is read and counted: local (one process), parallel (every core), or dask "
        "(a Dask cluster; see --scheduler). The results are the same.",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="With --engine dask: the scheduler's address (tcp://host:8786); default: a local cluster.",
    ),
]
CacheOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache",
        metavar="DIR",
        help="Cache folder for text and term counts, keyed by content hashes "
        "(default: $GOVCOMPARE_CACHE or ~/.cache/govcompare; safe to delete).",
    ),
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Read and count every file again; write no cache.")
]


@dataclass(frozen=True)
class RunOptions:
    """The options every command that reads a corpus takes (see :func:`with_run_options`)."""

    strict: bool = False
    max_file_mb: float = 50.0
    max_pages: int = 2000
    max_passages: int = 50_000
    max_chars: int = 20_000_000
    max_decompressed_mb: float = 200.0
    engine: str = "local"
    scheduler: str | None = None
    cache: Path | None = None
    no_cache: bool = False


_RUN_OPTIONS: dict[str, Any] = {  # each option's annotation (typer reads its flag and help there)
    "strict": StrictOpt,
    "max_file_mb": MaxFileOpt,
    "max_pages": MaxPagesOpt,
    "max_passages": MaxPassagesOpt,
    "max_chars": MaxCharsOpt,
    "max_decompressed_mb": MaxDecompressedOpt,
    "engine": EngineOpt,
    "scheduler": SchedulerOpt,
    "cache": CacheOpt,
    "no_cache": NoCacheOpt,
}


def with_run_options(command: Callable[..., R]) -> Callable[..., R]:
    """Give ``command`` the reading, limit, engine and cache options, collected in ``options``.

    Typer builds a command's options from its signature; this one shows typer the command's own
    parameters followed by the shared ones, and hands the command one :class:`RunOptions`.
    """
    own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "options"]
    defaults = RunOptions()
    shared = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=getattr(defaults, name), annotation=kind
        )
        for name, kind in _RUN_OPTIONS.items()
    ]

    @functools.wraps(command)
    def with_options(*args: Any, **kwargs: Any) -> R:
        options = RunOptions(**{name: kwargs.pop(name) for name in _RUN_OPTIONS if name in kwargs})
        return command(*args, options=options, **kwargs)

    with_options.__signature__ = inspect.Signature([*own, *shared])  # type: ignore[attr-defined]
    return with_options


def _settings(options: RunOptions, *, top_k: int = 5, min_score: float | None = None) -> Any:
    from govcompare.cache import default_cache_folder
    from govcompare.corpus import Limits
    from govcompare.engines import ENGINES, Engine
    from govcompare.passages import Segmenter
    from govcompare.pipeline import Settings

    engine, scheduler, cache = options.engine, options.scheduler, options.cache
    _check_choice("--engine", engine, ENGINES)
    if scheduler is not None and engine != "dask":
        raise typer.BadParameter("only applies to --engine dask: add --engine dask", param_hint="--scheduler")
    if options.no_cache and cache is not None:
        raise typer.BadParameter(
            "--cache and --no-cache contradict each other: give one", param_hint="--cache"
        )

    limits = Limits(
        max_file_bytes=int(options.max_file_mb * 1_000_000),
        max_pdf_pages=options.max_pages,
        max_decompressed_bytes=int(options.max_decompressed_mb * 1_000_000),
        max_chars=options.max_chars,
    )
    return Settings(
        top_k=top_k,
        min_score=min_score,
        strict=options.strict,
        limits=limits,
        segmenter=Segmenter(max_passages=options.max_passages),
        engine=Engine(engine, scheduler),  # type: ignore[arg-type]  # checked by Engine
        cache=None if options.no_cache else (cache or default_cache_folder()),
    )


class ReadingProgress:
    """A progress bar on stderr for reading a corpus, shown only for 50 files or more on a terminal."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if total < 50 or not sys.stderr.isatty():
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("reading"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("reading", total=total)
        self._bar.update(self._task, completed=done, total=total)

    def __enter__(self) -> ReadingProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _run(frameworks: list[Path] | None, corpus: list[Path] | None, settings: Any) -> Any:
    """Load and analyse, with a progress bar while reading a large corpus, and report skipped files."""
    from govcompare.pipeline import run

    with ReadingProgress() as progress:
        result = run(frameworks or [Path("frameworks")], corpus or [Path("seeds")], settings, progress)
    _warn_skipped(result.corpus)
    return result


def _relative(path: str, root: Path) -> str:
    # Symbolic links are not resolved: a link (broken, or to a file elsewhere) shows where it lies.
    try:
        absolute = Path(os.path.normpath(Path(path).absolute()))
        return absolute.relative_to(Path(os.path.normpath(Path(root).absolute()))).as_posix()
    except ValueError:
        return path


def _warn_skipped(corpus: Any) -> None:
    for record in corpus.skipped():
        sys.stderr.write(f"skipped: {record.path}: {record.status}: {record.reason}\n")


def _fail(lines: list[str]) -> None:
    for line in lines:
        sys.stderr.write(f"Error: {line}\n")


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the library's errors into ``Error: ...`` lines on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except GovCompareError as exc:
            _fail(exc.lines())
            raise typer.Exit(code=1) from None
        except KeyboardInterrupt:
            sys.stderr.write("Interrupted: nothing was written.\n")
            raise typer.Exit(code=130) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:
            if os.environ.get("GOVCOMPARE_DEBUG"):
                raise
            _fail(
                [
                    f"internal error ({type(exc).__name__}: {exc}); this is a bug in govcompare: "
                    "rerun with GOVCOMPARE_DEBUG=1 for the traceback and report it"
                ]
            )
            raise typer.Exit(code=1) from None

    return wrapper


def _frameworks(paths: list[Path] | None) -> Any:
    from govcompare.frameworks import load_frameworks

    return load_frameworks(paths or [Path("frameworks")])


@app.command()
@handles_errors
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Framework folders or files (default: frameworks/).")
    ] = None,
) -> None:
    """Check framework files and name every mistake with file, line and column."""
    fs = _frameworks(paths)
    for path, fw in zip(fs.paths, fs.frameworks, strict=True):
        out.print(f"ok  {path}  {fw.id}: {len(fw.principles)} principles, {len(fw.sources)} sources")
    out.print(f"{len(fs.frameworks)} framework(s) valid on {len(fs.dimensions.dimensions)} dimensions")


@app.command()
@handles_errors
def schema(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write the JSON Schema files into.")
    ] = Path("frameworks"),
) -> None:
    """Write the JSON Schemas that editors use to validate and complete framework files."""
    from govcompare.frameworks import json_schemas
    from govcompare.io import write_text_atomic

    for name, text in json_schemas().items():
        write_text_atomic(out_dir / name, text)
        out.print(f"wrote {out_dir / name}")


@app.command("frameworks")
@handles_errors
def list_frameworks(frameworks: FrameworksOpt = None) -> None:
    """List the frameworks with their principles counted per dimension."""
    from rich.table import Table

    fs = _frameworks(frameworks)
    table = Table(title="Principles per dimension", title_justify="left")
    table.add_column("dimension")
    for fw in fs.frameworks:
        table.add_column(fw.id, justify="right")
    for dim in fs.dimensions.dimensions:
        cells = []
        for fw in fs.frameworks:
            n = sum(p.dimension == dim.id for p in fw.principles)
            silent = any(s.dimension == dim.id for s in fw.silent)
            cells.append(str(n) if n else ("silent" if silent else "-"))
        table.add_row(dim.id, *cells)
    table.add_section()
    table.add_row("total", *(str(len(fw.principles)) for fw in fs.frameworks))
    for fw in fs.frameworks:
        out.print(f"[bold]{fw.id}[/bold]  {fw.name}  ({', '.join(fw.actors)}; v{fw.version}, {fw.date})")
    out.print(table)


@app.command()
@handles_errors
def show(
    framework_id: Annotated[str, typer.Argument(metavar="ID", help="A framework id.")],
    frameworks: FrameworksOpt = None,
) -> None:
    """Show one framework: its summary, then its principles dimension by dimension."""
    from rich.markup import escape
    from rich.panel import Panel

    fs = _frameworks(frameworks)
    fw = fs.get(framework_id)
    sources = {s.id: s for s in fw.sources}
    out.print(Panel(escape(fw.summary), title=f"{escape(fw.name)} ({fw.id})", title_align="left"))
    out.print(f"Actors: {escape(', '.join(fw.actors))}   Version {escape(fw.version)}, {fw.date}")
    for dim in fs.dimensions.dimensions:
        principles = [p for p in fw.principles if p.dimension == dim.id]
        silent = [s for s in fw.silent if s.dimension == dim.id]
        out.rule(f"[bold]{escape(dim.name)}[/bold] ({dim.id})", align="left")
        if not principles:
            reason = silent[0].reason if silent else "no principle and no silent entry"
            out.print(f"  [italic]silent:[/italic] {escape(reason)}")
        for p in principles:
            out.print(f"  [bold]{escape(p.title)}[/bold]  [dim]{p.id}[/dim]")
            out.print(f"    {escape(p.statement)}")
            out.print(f"    [cyan]key terms:[/cyan] {escape('; '.join(p.key_terms))}")
            if p.opposite_terms:
                out.print(f"    [magenta]opposite:[/magenta] {escape('; '.join(p.opposite_terms))}")
            for ex in p.exemplars:
                out.print(f"    [green]>[/green] {escape(ex)}")
            cites = "; ".join(f"{sources[r.source].title} ({r.locator})" for r in p.sources)
            out.print(f"    [dim]sources: {escape(cites)}[/dim]")
    out.print()
    out.print("Sources:")
    for s in fw.sources:
        where = s.url or s.file
        out.print(
            f"  [{s.id}] {escape(s.title)}, {escape(s.publisher)}, {s.date or 'n.d.'}: {escape(str(where))}"
        )


@app.command()
@handles_errors
@with_run_options
def ingest(
    corpus: CorpusArg,
    *,
    options: RunOptions,
) -> None:
    """Read a corpus: every file with its status, passages, date and actor, and a summary."""
    from rich.table import Table

    from govcompare.pipeline import read_and_count

    settings = _settings(options)
    with ReadingProgress() as progress:
        ingested = read_and_count(corpus, settings, progress)
    result = ingested.corpus
    counts: dict[str, int] = {}
    for p in ingested.passages:
        counts[p.document] = counts.get(p.document, 0) + 1
    documents = {d.id: d for d in result.documents}
    table = Table(title=f"Corpus {result.root}", title_justify="left")
    for column in ("file", "status", "passages", "date", "actor", "title / reason"):
        table.add_column(column, justify="right" if column == "passages" else "left", overflow="fold")
    for record in result.records:
        doc = documents.get(record.document or "")
        table.add_row(
            _relative(record.path, result.root),
            record.status,
            str(counts.get(doc.id, 0)) if doc else "",
            (doc.date or "") if doc else "",
            (doc.actor or "") if doc else "",
            doc.title if doc else (record.reason or ""),
        )
    out.print(table)
    summary = ", ".join(f"{n} {status}" for status, n in result.summary().items() if n)
    out.print(f"{len(result.records)} files: {summary}; {sum(counts.values())} passages")
    _warn_skipped(result)


@app.command()
@handles_errors
@with_run_options
def evidence(
    principle_id: Annotated[str, typer.Argument(metavar="PRINCIPLE_ID", help="A principle id.")],
    corpus: CorpusOpt = None,
    frameworks: FrameworksOpt = None,
    top_k: TopKOpt = 5,
    min_score: MinScoreOpt = None,
    output_format: Annotated[str, typer.Option("--format", help="text, csv or json.")] = "text",
    *,
    options: RunOptions,
) -> None:
    """Show a principle's evidence: ranked verbatim quotes with citation, score and explanation."""
    _check_choice("--format", output_format, ("text", "csv", "json"))
    from govcompare.frameworks import load_frameworks

    load_frameworks(frameworks or [Path("frameworks")]).principle(principle_id)  # fail fast on a bad id
    settings = _settings(options, top_k=top_k, min_score=min_score)
    result = _run(frameworks, corpus, settings)
    table = result.evidence
    table = table[table.principle == principle_id]
    if output_format != "text":
        _emit(table, output_format)
        return
    from govcompare.render_terminal import print_evidence

    fw, principle = result.frameworks.principle(principle_id)
    print_evidence(out, fw, principle, table, result.emap.threshold)


@app.command()
@handles_errors
@with_run_options
def score(
    corpus: CorpusArg,
    passages: Annotated[bool, typer.Option("--passages", help="Label each passage instead.")] = False,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    frameworks: FrameworksOpt = None,
    min_score: MinScoreOpt = None,
    *,
    options: RunOptions,
) -> None:
    """Score which framework each document (or passage) leans to, with bootstrap intervals."""
    _check_choice("--format", output_format, ("table", "csv", "json"))
    settings = _settings(options, min_score=min_score)
    result = _run(frameworks, corpus, settings)
    table = result.passage_table if passages else result.documents
    if output_format != "table":
        _emit(table, output_format)
        return
    from govcompare.render_terminal import print_frame

    shown = table.drop(columns=["text"]) if passages else table.drop(columns=["title"])
    print_frame(out, shown, title="Passage attribution" if passages else "Document leaning")
    ids = result.frameworks.ids
    if len(ids) >= 2:
        out.print(
            f"leaning_index: -1 = all {ids[0]}, +1 = all {ids[1]}; 95% bootstrap interval over passages"
        )


@app.command()
@handles_errors
@with_run_options
def evaluate(
    gold: Annotated[Path, typer.Option("--gold", "-g", help="Gold-label CSV (passages or documents).")],
    corpus: CorpusOpt = None,
    frameworks: FrameworksOpt = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the evaluation files.")] = Path(
        "reports/evaluation"
    ),
    min_score: MinScoreOpt = None,
    *,
    options: RunOptions,
) -> None:
    """Measure the mapping against gold labels: precision, recall, F1, confusion, intervals."""
    from govcompare.evaluation import evaluate as run_evaluation
    from govcompare.render_terminal import print_evaluation
    from govcompare.report.write import write_evaluation

    labels = _read_gold(gold)
    settings = _settings(options, min_score=min_score)
    result = _run(frameworks, corpus, settings)
    evaluation = run_evaluation(result, labels)
    print_evaluation(out, evaluation)
    written = write_evaluation(out_dir, evaluation)
    out.print(f"wrote {written}")


@app.command()
@handles_errors
@with_run_options
def report(
    frameworks: FrameworksOpt = None,
    corpus: CorpusOpt = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("reports"),
    formats: Annotated[
        str, typer.Option("--format", help="Comma-separated report formats: md,html,pdf.")
    ] = "md,html,pdf",
    title: Annotated[str | None, typer.Option("--title", help="Report title.")] = None,
    top_k: TopKOpt = 5,
    min_score: MinScoreOpt = None,
    gold: Annotated[
        Path | None, typer.Option("--gold", help="Gold labels: the report then states measured quality.")
    ] = None,
    *,
    options: RunOptions,
) -> None:
    """Write the contrast report (Markdown, HTML, PDF), charts, CSV exports and run record."""
    import time
    import warnings

    from govcompare.report.write import FORMATS, check_output_folder, write_report

    wanted = [f.strip().lower() for f in formats.split(",") if f.strip()]
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        raise typer.BadParameter(
            f"{', '.join(bad) or formats!r} not in {','.join(FORMATS)}", param_hint="--format"
        )
    corpus_paths = corpus or [Path("seeds")]
    check_output_folder(out_dir, corpus_paths)  # fail before the work, not after
    labels = _read_gold(gold) if gold else None
    started = time.perf_counter()
    settings = _settings(options, top_k=top_k, min_score=min_score)
    result = _run(frameworks, corpus_paths, settings)
    evaluation = None
    if labels is not None:
        from govcompare.evaluation import evaluate as run_evaluation

        evaluation = run_evaluation(result, labels)
    label = ", ".join(str(p) for p in corpus_paths)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = write_report(
            result,
            out_dir,
            formats=wanted,
            title=title,
            corpus_label=label,
            evaluation=evaluation,
            corpus_paths=corpus_paths,
        )
    for message in dict.fromkeys(str(w.message) for w in caught):
        sys.stderr.write(f"warning: {message}\n")
    shown = [p for p in paths if p.parent == out_dir]
    out.print(f"wrote {len(paths)} files to {out_dir}/ in {time.perf_counter() - started:.1f} s:")
    for path in shown:
        out.print(f"  {path}")
    out.print(f"  {out_dir}/charts/ (PNG 300 dpi, SVG), {out_dir}/data/ (CSV)")


def _read_gold(path: Path) -> Any:
    import csv

    from govcompare.errors import EvaluationError
    from govcompare.evaluation import parse_gold

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"{path}: cannot read the gold file ({exc}): give a UTF-8 CSV") from None
    try:
        return parse_gold(text, source=str(path))
    except csv.Error as exc:  # a field over the csv module's size limit
        raise EvaluationError(f"{path}: not a valid CSV file ({exc})") from None


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(choices)}", param_hint=option)


def _emit(table: Any, output_format: str) -> None:
    if output_format == "csv":
        sys.stdout.write(table.to_csv(index=False, lineterminator="\n"))
    else:
        sys.stdout.write(table.to_json(orient="records", force_ascii=False, indent=2) + "\n")


def main() -> None:
    """Entry point of the ``govcompare`` console script."""
    app()
