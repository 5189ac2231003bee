"""Rich terminal views of the library's tables; only the CLI calls these."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from govcompare.models import Framework, Principle

__all__ = ["highlight", "print_evaluation", "print_evidence", "print_frame"]


def highlight(text: str, terms: list[str]) -> Text:
    """``text`` with each occurrence of the given terms (any case, any spacing) in bold."""
    out = Text(text)
    for term in terms:
        pattern = r"\b" + r"[\s\-]*".join(re.escape(w) for w in term.split()) + r"\w{0,3}\b"
        out.highlight_regex(re.compile(pattern, re.IGNORECASE), style="bold yellow")
    return out


def print_evidence(
    console: Console, fw: Framework, principle: Principle, table: pd.DataFrame, threshold: float
) -> None:
    console.print(f"[bold]{escape(principle.title)}[/bold]  {principle.id} ({fw.id}, {principle.dimension})")
    console.print(f"[dim]{escape(principle.statement)}[/dim]")
    if table.empty:
        console.print(f"No evidence above the threshold ({threshold:.3f}): this principle is a gap here.")
        return
    for row in table.itertuples():
        where = f"{row.document}, passage {row.passage}, chars {row.start}-{row.end}"
        aligned = "" if row.label == fw.id else f"  [magenta](passage attributed to {row.label})[/magenta]"
        console.rule(f"#{row.rank}  score {row.score:.3f}  {escape(where)}", align="left")
        terms = [t for t in str(row.key_terms).split("; ") if t] + [
            t for t in str(row.terms).split("; ") if t
        ]
        console.print(highlight(str(row.text), terms))
        console.print(f"[cyan]terms:[/cyan] {escape(str(row.terms))}{aligned}")
        if row.key_terms:
            console.print(f"[cyan]key terms matched:[/cyan] {escape(str(row.key_terms))}")
    console.print(f"[dim]threshold {threshold:.3f}; cosine similarity of TF-IDF vectors[/dim]")


def print_frame(console: Console, frame: pd.DataFrame, *, title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(str(column), justify="right" if numeric else "left", overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    console.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return escape(str(value))


def print_evaluation(console: Console, evaluation: Any) -> None:
    s = evaluation.summary
    console.print(f"[bold]Evaluation on {s['items']} gold {evaluation.kind}[/bold]")
    for key in ("macro_f1", "side_macro_f1", "dimension_top1", "neutral_recall"):
        if key in s and s[key] == s[key]:  # NaN: not measurable on these labels
            ci = s.get(f"{key}_ci")
            interval = f"  (95% CI {ci[0]:.3f}-{ci[1]:.3f}, documents resampled)" if ci else ""
            console.print(f"  {key:<16} {s[key]:.3f}{interval}")
    print_frame(console, evaluation.per_class, title="Per class")
    confusion = evaluation.confusion.reset_index()
    confusion.columns = ["gold \\ predicted", *map(str, evaluation.confusion.columns)]
    print_frame(console, confusion, title="Confusion matrix")
    for note in evaluation.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
