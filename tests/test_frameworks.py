from __future__ import annotations

import json
from pathlib import Path

import pytest

from govcompare.errors import FrameworkError
from govcompare.frameworks import json_schemas, load_frameworks, parse_framework
from govcompare.yamlsafe import YamlLimits

FIXTURES = Path(__file__).parent / "data" / "frameworks"

BAD = [
    ("bad_malformed.yaml", 3, 7, "invalid YAML"),
    ("bad_empty.yaml", 1, 1, "file is empty"),
    ("bad_unknown_key.yaml", 19, 5, "unknown key 'keyterms' (did you mean 'key-terms'?)"),
    ("bad_missing_field.yaml", 15, 5, "principles[0].statement: required field is missing"),
    ("bad_wrong_type.yaml", 19, 5, "principles[0].key-terms: expected a list"),
    ("bad_duplicate_principle.yaml", 25, 9, "duplicate principle id 'a-sovereignty'"),
    (
        "bad_undefined_dimension.yaml",
        16,
        16,
        "'soverignty' is not defined in dimensions.yaml (did you mean 'sovereignty'?)",
    ),
    ("bad_unknown_source.yaml", 23, 17, "source 'doc-b' is not listed in sources (did you mean 'doc-a'?)"),
    ("bad_non_utf8.yaml", 3, 21, "byte 0xe9 is not UTF-8"),
    ("bad_alias_bomb.yaml", 1, 35, "alias bomb"),
    ("bad_python_tag.yaml", 3, 7, "python/object/apply:os.system' is not allowed"),
    ("bad_duplicate_key.yaml", 7, 1, "duplicate key 'version'"),
    ("bad_deep_nesting.yaml", 1, 45, "nested deeper than 40 levels"),
]


@pytest.mark.parametrize(("name", "line", "column", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_framework_names_file_line_column(name: str, line: int, column: int, message: str) -> None:
    path = FIXTURES / name
    with pytest.raises(FrameworkError) as caught:
        load_frameworks(path)
    first = caught.value.lines()[-1] if name == "bad_unknown_key.yaml" else caught.value.lines()[0]
    assert first.startswith(f"{path}:{line}:{column}: "), first
    assert message in first


def test_all_problems_in_a_file_are_reported_at_once() -> None:
    text = (FIXTURES / "good_minimal.yaml").read_text()
    text = text.replace("    key-terms:", "    keyterms:").replace('version: "0.1"', "version: [1]")
    with pytest.raises(FrameworkError) as caught:
        parse_framework(text, source="x.yaml")
    fields = [p.field for p in caught.value.problems]
    assert fields == ["version", "principles[0].key-terms", "principles[0].keyterms"]


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    (tmp_path / "dimensions.yaml").write_bytes((FIXTURES / "dimensions.yaml").read_bytes())
    big = tmp_path / "big.yaml"
    big.write_text("summary: " + "x" * 2_000_000 + "\n")
    with pytest.raises(
        FrameworkError, match=r"big.yaml:1:1: file is 2,000,010 bytes, over the 1,000,000-byte"
    ):
        load_frameworks(big)
    with pytest.raises(FrameworkError, match="over the 100-byte limit"):
        load_frameworks(FIXTURES / "good_minimal.yaml", limits=YamlLimits(max_bytes=100))


def test_extreme_nesting_is_refused_without_a_crash() -> None:
    with pytest.raises(FrameworkError, match="nested"):
        parse_framework("id: " + "[" * 100_000 + "]" * 100_000, source="deep.yaml")


def test_good_frameworks_load_into_immutable_models() -> None:
    fs = load_frameworks([FIXTURES / "good_minimal.yaml", FIXTURES / "good_second.yaml"])
    assert fs.ids == ["test-a", "test-b"]
    principle = fs.frameworks[0].principles[0]
    assert principle.key_terms == ["cyber sovereignty", "non-interference", "jurisdiction"]
    assert fs.frameworks[0].silent[0].dimension == "governance-model"
    with pytest.raises(Exception, match="frozen"):
        principle.title = "changed"  # type: ignore[misc]


def test_principle_ids_must_be_unique_across_frameworks(tmp_path: Path) -> None:
    for name in ("dimensions.yaml", "good_minimal.yaml"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    (tmp_path / "copy.yaml").write_text(
        (FIXTURES / "good_minimal.yaml").read_text().replace("id: test-a", "id: test-c")
    )
    with pytest.raises(
        FrameworkError, match="principle id 'a-sovereignty' is also used by another framework"
    ):
        load_frameworks(tmp_path)


def test_missing_path_and_missing_dimensions(tmp_path: Path) -> None:
    with pytest.raises(FrameworkError, match="no such file or folder"):
        load_frameworks(tmp_path / "nope")
    (tmp_path / "a.yaml").write_text("id: x\n")
    with pytest.raises(FrameworkError, match="missing: put dimensions.yaml next to the framework files"):
        load_frameworks(tmp_path)


def test_silent_entry_on_a_held_dimension_is_an_error() -> None:
    text = (
        (FIXTURES / "good_minimal.yaml")
        .read_text()
        .replace("  - dimension: governance-model", "  - dimension: sovereignty")
    )
    dims = load_frameworks(FIXTURES / "good_minimal.yaml").dimensions
    with pytest.raises(FrameworkError, match="has principles on 'sovereignty': remove this silent entry"):
        parse_framework(text, source="x.yaml", dimensions=dims)


def test_committed_schemas_match_the_models(root: Path) -> None:
    for name, text in json_schemas().items():
        committed = (root / "frameworks" / name).read_text(encoding="utf-8")
        assert committed == text, f"frameworks/{name} is stale: run `govcompare schema`"
    schema = json.loads(json_schemas()["framework.schema.json"])
    assert "key-terms" in schema["$defs"]["Principle"]["properties"]
    assert schema["additionalProperties"] is False
