"""The bundled frameworks meet the bar the project set for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from govcompare.frameworks import load_frameworks

IDS = ["cn-shared-future", "us-multistakeholder"]
DIMENSIONS = [
    "sovereignty",
    "governance-model",
    "rights-and-freedoms",
    "content-and-order",
    "data-governance",
    "security-and-stability",
    "technology-and-standards",
    "digital-economy",
    "development-and-inclusion",
    "cooperation-and-community",
]


def test_dimensions_start_with_the_agreed_ids() -> None:
    fs = load_frameworks("frameworks")
    assert fs.dimensions.ids()[: len(DIMENSIONS)] == DIMENSIONS
    assert fs.ids == IDS


@pytest.mark.parametrize("framework_id", IDS)
def test_framework_is_complete(framework_id: str) -> None:
    fs = load_frameworks("frameworks")
    fw = fs.get(framework_id)
    assert len(fw.principles) >= 12
    for p in fw.principles:
        assert len(p.key_terms) >= 6, p.id
        assert len(p.exemplars) >= 2, p.id
        assert p.sources, p.id
    held = {p.dimension for p in fw.principles}
    silent = {s.dimension for s in fw.silent}
    assert set(fs.dimensions.ids()) == held | silent


@pytest.mark.parametrize("path", sorted(Path("frameworks").glob("*.yaml")), ids=lambda p: p.name)
def test_every_file_points_editors_at_the_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    schema = "dimensions.schema.json" if path.name == "dimensions.yaml" else "framework.schema.json"
    assert first == f"# yaml-language-server: $schema=./{schema}"
