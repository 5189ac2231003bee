from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from govcompare.cli import app

FIXTURES = Path(__file__).parent / "data" / "frameworks"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def commands() -> list[str]:
    return sorted(c.name or c.callback.__name__ for c in app.registered_commands if c.callback)  # type: ignore[union-attr]


@pytest.mark.parametrize("command", commands())
def test_every_command_has_help_and_is_in_the_readme(command: str, root: Path) -> None:
    code, out, _ = run(command, "--help")
    assert code == 0
    assert "Usage" in out
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert f"govcompare {command}" in readme, f"README does not document `govcompare {command}`"


def test_validate_bundled_frameworks() -> None:
    code, out, err = run("validate")
    assert code == 0, err
    assert "ok  frameworks/cn-shared-future.yaml" in out
    assert "ok  frameworks/us-multistakeholder.yaml" in out
    assert err == ""


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("bad_*.yaml")))
def test_validate_bad_file_exits_1_with_one_line_per_problem(name: str) -> None:
    code, out, err = run("validate", str(FIXTURES / name))
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert lines
    for line in lines:
        assert re.match(rf"Error: {re.escape(str(FIXTURES / name))}:\d+:\d+: ", line), line
    assert "Traceback" not in err


def test_frameworks_lists_counts_per_dimension() -> None:
    code, out, _ = run("frameworks")
    assert code == 0
    assert "cn-shared-future" in out and "us-multistakeholder" in out
    assert "sovereignty" in out and "total" in out


def test_show_a_framework() -> None:
    code, out, _ = run("show", "us-multistakeholder")
    assert code == 0
    assert "Sources:" in out and "key terms:" in out


def test_show_unknown_id_suggests() -> None:
    code, _out, err = run("show", "us-multistakeholdr")
    assert code == 1
    assert "did you mean 'us-multistakeholder'?" in err


def test_schema_writes_both_files(tmp_path: Path) -> None:
    code, _out, _ = run("schema", "--out", str(tmp_path))
    assert code == 0
    assert {p.name for p in tmp_path.iterdir()} == {"framework.schema.json", "dimensions.schema.json"}


DOCUMENT_COLUMNS = (
    "document,title,date,actor,passages,score:cn-shared-future,score:us-multistakeholder,"
    "leaning,leaning_index,ci_low,ci_high,top_principle,top_dimension"
)
PASSAGE_COLUMNS = "document,passage,start,end,score:cn-shared-future,score:us-multistakeholder,label,top_principle,top_dimension,text"


def test_ingest_lists_every_file_with_status(shared_corpus: Path) -> None:
    code, out, err = run("ingest", str(shared_corpus))
    assert code == 0, err
    assert "us-national-cybersecurity-strategy-2023.pdf" in out
    assert "9 files: 9 read" in out


def test_ingest_reports_what_it_skipped(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A real paragraph about cyber sovereignty and the internet. " * 5)
    (tmp_path / "b.xyz").write_text("unknown")
    (tmp_path / "c.txt").write_bytes(b"")
    code, _out, err = run("ingest", str(tmp_path))
    assert code == 0
    assert "skipped: " in err and "b.xyz: unsupported: no reader for .xyz" in err
    assert "c.txt: empty" in err
    code, _, err = run("ingest", str(tmp_path), "--strict")
    assert code == 1
    assert err.startswith("Error: ") and "Traceback" not in err


def test_ingest_missing_corpus() -> None:
    code, _out, err = run("ingest", "no/such/folder")
    assert code == 1
    assert "no/such/folder: no such file or folder" in err


def test_missing_frameworks_folder_is_named_with_the_fix_and_no_line_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no frameworks/ here
    (tmp_path / "doc.txt").write_text("Cyber sovereignty is respected.", encoding="utf-8")
    code, out, err = run("score", "doc.txt")
    assert code == 1 and out == ""
    assert err.strip() == (
        "Error: frameworks: no such file or folder: give the folder holding dimensions.yaml and the "
        "framework YAML files, or framework files (--frameworks)"
    )


def test_score_csv_has_the_documented_columns() -> None:
    code, out, err = run("score", "seeds", "--format", "csv")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == DOCUMENT_COLUMNS
    assert len(lines) == 3


def test_score_passages_csv_and_json() -> None:
    code, out, _ = run("score", "seeds", "--passages", "--format", "csv")
    assert code == 0
    assert out.splitlines()[0] == PASSAGE_COLUMNS
    code, out, _ = run("score", "seeds", "--format", "json")
    assert code == 0
    assert '"leaning_index"' in out


def test_score_table_and_bad_format() -> None:
    code, out, _ = run("score", "seeds")
    assert code == 0
    assert "Document leaning" in out and "leaning_index: -1 = all cn-shared-future" in out
    code, _, err = run("score", "seeds", "--format", "xml")
    assert code == 2
    assert "'xml' is not one of table, csv, json" in err


def test_evidence_shows_cited_quotes() -> None:
    code, out, err = run("evidence", "cn-community-shared-future", "--top-k", "2")
    assert code == 0, err
    assert "#1  score" in out and "passage" in out and "chars" in out
    code, out, _ = run("evidence", "cn-community-shared-future", "--format", "csv")
    assert code == 0
    assert out.splitlines()[0].startswith(
        "framework,principle,dimension,rank,document,passage,start,end,score"
    )


def test_evidence_unknown_principle_suggests() -> None:
    code, _, err = run("evidence", "cn-community-shared-futur")
    assert code == 1
    assert "did you mean 'cn-community-shared-future'?" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--top-k", "0"], "Invalid value for '--top-k'"),
        (["--min-score", "2"], "Invalid value for '--min-score'"),
    ],
)
def test_options_out_of_range_are_usage_errors(args: list[str], message: str) -> None:
    code, _, err = run("evidence", "cn-community-shared-future", *args)
    assert code == 2
    assert message in err


def test_evaluate_prints_and_writes(tmp_path: Path) -> None:
    gold = Path(__file__).parent / "data" / "gold" / "passages.csv"
    code, out, err = run("evaluate", "--gold", str(gold), "--out", str(tmp_path))
    assert code == 0, err
    assert "side_macro_f1" in out and "Confusion matrix" in out
    assert "gold row(s) name documents outside this corpus" in out
    assert {p.name for p in tmp_path.iterdir()} == {
        "evaluation.json",
        "per_class.csv",
        "confusion.csv",
        "items.csv",
    }


def test_evaluate_bad_gold(tmp_path: Path) -> None:
    bad = tmp_path / "gold.csv"
    bad.write_text(
        "document,quote,side\nseeds.txt,this quote does not exist anywhere in the corpus,neutral\n"
    )
    code, _, err = run("evaluate", "--gold", str(bad))
    assert code == 1
    assert "gold line" in err or "no gold label matches" in err
    code, _, err = run("evaluate", "--gold", str(tmp_path / "missing.csv"))
    assert code == 1
    assert "cannot read the gold file" in err
