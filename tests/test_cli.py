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
