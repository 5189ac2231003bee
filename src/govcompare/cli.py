"""The govcompare command line: parse options, call the library, write outputs, map errors to exit 1."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
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
out = Console(highlight=False, soft_wrap=False)

P = ParamSpec("P")
R = TypeVar("R")

FrameworksOpt = Annotated[
    list[Path] | None,
    typer.Option("--frameworks", "-f", help="Framework folder or files (default: frameworks/)."),
]


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


def main() -> None:
    """Entry point of the ``govcompare`` console script."""
    app()
