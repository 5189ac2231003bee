from __future__ import annotations

import os
import random
import shutil
import sys
import unittest.mock
from pathlib import Path

import numpy as np
import pytest
from corpus_fixtures import SHARED_CORPUS, blank_pdf, encrypted_pdf, make_docx, make_pdf
from hypothesis import given, settings
from hypothesis import strategies as st

import govcompare.corpus as corpus_module
from govcompare.corpus import (
    Corpus,
    Limits,
    near_duplicate_sets,
    near_duplicates,
    read_corpus,
    shingle_sets,
)
from govcompare.errors import CorpusError
from govcompare.models import InputRecord
from govcompare.readers import READERS

DATA = Path(__file__).parent / "data" / "corpus"

ARTICLE = (
    "The Declaration for the Future of the Internet commits its partners to an open, free, global, "
    "interoperable, reliable and secure Internet. It affirms that governance should include the "
    "private sector, civil society, academia and the technical community, and that human rights "
    "must be protected online as they are offline. Partners will refrain from government-imposed "
    "internet shutdowns, promote the free flow of data with trust, and resist the use of digital "
    "technologies for repression. They will work together to strengthen cybersecurity, protect "
    "critical infrastructure, and keep the internet a single network that connects people across "
    "borders for trade, learning and exchange of ideas."
)
OTHER = (
    "Cyber sovereignty means that each country chooses its own path of internet development and "
    "governance and takes part in international cyberspace governance on an equal footing. The "
    "white paper calls for a multilateral system with the United Nations at its centre, for data "
    "security reviews, for a clean and healthy online environment, and for regulation and "
    "development to be given equal weight in building a community with a shared future."
)


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def statuses(corpus: Corpus) -> dict[str, tuple[str, str | None]]:
    """Record status and reason by path relative to the corpus root."""
    return {
        Path(r.path).absolute().relative_to(corpus.root).as_posix(): (r.status, r.reason)
        for r in corpus.records
    }


# --- discovery and ids ----------------------------------------------------------------------------


def test_folder_is_searched_recursively_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path, {"b.txt": OTHER, "a.md": ARTICLE, "sub/deeper/c.txt": "Third text.", "sub/a.txt": "Sub."})
    corpus = read_corpus(tmp_path)
    ids = ["a.md", "b.txt", "sub/a.txt", "sub/deeper/c.txt"]
    assert [d.id for d in corpus.documents] == ids
    assert [r.document for r in corpus.records] == ids
    assert corpus.root == tmp_path.absolute()


def test_ids_are_relative_to_the_common_parent_of_listed_files(tmp_path: Path) -> None:
    write(tmp_path, {"x/one.txt": ARTICLE, "y/z/two.txt": OTHER})
    corpus = read_corpus([tmp_path / "y" / "z" / "two.txt", str(tmp_path / "x" / "one.txt")])
    assert [d.id for d in corpus.documents] == ["x/one.txt", "y/z/two.txt"]


def test_a_single_file_is_a_corpus(tmp_path: Path) -> None:
    write(tmp_path, {"only.txt": ARTICLE})
    corpus = read_corpus(tmp_path / "only.txt")
    assert [d.id for d in corpus.documents] == ["only.txt"]


def test_ids_and_hashes_are_stable_across_locations(tmp_path: Path) -> None:
    source = write(tmp_path / "first", {"a.txt": ARTICLE, "sub/b.md": OTHER})
    copy = shutil.copytree(source, tmp_path / "elsewhere" / "second")
    one, two = read_corpus(source), read_corpus(copy)
    assert [(d.id, d.sha256) for d in one.documents] == [(d.id, d.sha256) for d in two.documents]
    assert [r.sha256 for r in one.records] == [r.sha256 for r in two.records]


def test_dot_folders_are_skipped_and_hidden_files_recorded(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": ARTICLE, ".git/config.txt": "x", ".cache/sub/b.txt": "y", ".notes.txt": "z"})
    corpus = read_corpus(tmp_path)
    assert statuses(corpus) == {
        ".notes.txt": ("unsupported", "hidden file (name starts with a dot): not read"),
        "a.txt": ("read", None),
    }


def test_unsupported_suffix_is_recorded_with_the_supported_ones(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": ARTICLE, "slides.pptx": b"PK", "README": "notes"})
    found = statuses(read_corpus(tmp_path))
    assert found["slides.pptx"] == (
        "unsupported",
        "no reader for .pptx (supported: .docx, .htm, .html, .markdown, .md, .pdf, .txt)",
    )
    assert found["README"][1] is not None
    assert found["README"][1].startswith("no reader for files without a suffix")


def test_nonexistent_path_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(CorpusError, match=f"^{missing}: no such file or folder$"):
        read_corpus(missing)


def test_nonexistent_path_in_a_list_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": ARTICLE})
    with pytest.raises(CorpusError, match="missing.txt: no such file or folder"):
        read_corpus([tmp_path / "a.txt", tmp_path / "missing.txt"])


def test_empty_list_is_an_error() -> None:
    with pytest.raises(CorpusError, match="no corpus given"):
        read_corpus([])


@pytest.mark.parametrize("layout", [{}, {".git/HEAD.txt": "ref"}], ids=["empty", "only-dot-folders"])
def test_folder_without_files_is_an_error(tmp_path: Path, layout: dict[str, str | bytes]) -> None:
    write(tmp_path, layout)
    (tmp_path / "empty-sub").mkdir()
    with pytest.raises(CorpusError, match="no files found"):
        read_corpus(tmp_path)


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": ARTICLE, "sub/b.txt": OTHER})
    (tmp_path / "sub" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "self").symlink_to(tmp_path / "sub", target_is_directory=True)
    corpus = read_corpus(tmp_path)
    assert [d.id for d in corpus.documents] == ["a.txt", "sub/b.txt"]


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_broken_symlink_is_recorded_as_failed(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": ARTICLE})
    (tmp_path / "gone.txt").symlink_to(tmp_path / "never-there.txt")
    assert statuses(read_corpus(tmp_path))["gone.txt"] == (
        "failed",
        "broken symbolic link: its target does not exist",
    )


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root (and Windows) can read a chmod 000 file"
)
def test_unreadable_file_by_permissions(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": ARTICLE, "locked.txt": OTHER})
    (tmp_path / "locked.txt").chmod(0)
    try:
        found = statuses(read_corpus(tmp_path))
    finally:
        (tmp_path / "locked.txt").chmod(0o644)
    assert found["locked.txt"] == (
        "failed",
        "permission denied: cannot read the file (check its permissions)",
    )


def test_unreadable_file_is_recorded_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"a.txt": ARTICLE, "locked.txt": OTHER})
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    corpus = read_corpus(tmp_path)
    assert statuses(corpus)["locked.txt"] == (
        "failed",
        "permission denied: cannot read the file (check its permissions)",
    )
    assert [d.id for d in corpus.documents] == ["a.txt"]


# --- statuses -------------------------------------------------------------------------------------


def test_every_failure_mode_is_recorded(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "good.txt": ARTICLE,
            "empty.txt": b"",
            "blank.md": "---\ntitle: Nothing here\n---\n\n   \n",
            "binary.txt": bytes(range(256)) * 4,
            "encrypted.pdf": encrypted_pdf(),
            "scan.pdf": blank_pdf(),
            "truncated.pdf": make_pdf([[(72, 700, 11, OTHER[:80])]])[:300],
            "not-a-zip.docx": b"plain text with the wrong suffix",
            "bad-front-matter.md": (DATA / "bad_front_matter_list.md").read_bytes(),
        },
    )
    found = statuses(read_corpus(tmp_path))
    assert found == {
        "bad-front-matter.md": (
            "failed",
            "front matter must be a mapping of keys to values (title: ..., date: ...), not a list",
        ),
        "binary.txt": ("failed", "binary file, not text"),
        "blank.md": ("empty", "no text found in the file"),
        "empty.txt": ("empty", "file is empty (0 bytes)"),
        "encrypted.pdf": ("failed", "encrypted PDF: remove the password and try again"),
        "good.txt": ("read", None),
        "not-a-zip.docx": (
            "failed",
            "not a .docx file (not a zip archive): if it is an old .doc or another format, save it as .docx",
        ),
        "scan.pdf": ("failed", "no text layer (scanned image?): run OCR first"),
        "truncated.pdf": found["truncated.pdf"],
    }
    status, reason = found["truncated.pdf"]
    assert status == "failed"
    assert reason is not None and reason.startswith("not a readable PDF")


def test_good_and_bad_fixtures() -> None:
    corpus = read_corpus(DATA)
    for record in corpus.records:
        name = Path(record.path).name
        if name.startswith("good_"):
            assert record.status == "read", record
        elif name.startswith("bad_"):
            assert record.status == "failed", record


def test_reader_crash_is_recorded_with_the_reader_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(data: bytes, limits: Limits) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setitem(READERS, ".txt", explode)
    write(tmp_path, {"a.txt": ARTICLE})
    status, reason = statuses(read_corpus(tmp_path))["a.txt"]
    assert status == "failed"
    assert reason == ("the .txt reader failed (IndexError: list index out of range); please report this file")


def test_over_the_size_limit(tmp_path: Path) -> None:
    write(tmp_path, {"big.txt": "x" * 3_000_000, "small.txt": ARTICLE})
    found = statuses(read_corpus(tmp_path, limits=Limits(max_file_bytes=1_000_000)))
    assert found["big.txt"] == ("failed", "file is 3 MB, over the 1 MB limit (--max-file-mb)")
    assert found["small.txt"] == ("read", None)


def test_over_the_character_limit(tmp_path: Path) -> None:
    write(tmp_path, {"long.txt": ARTICLE})
    found = statuses(read_corpus(tmp_path, limits=Limits(max_chars=100)))
    assert found["long.txt"][0] == "failed"
    assert found["long.txt"][1] == (f"text has {len(ARTICLE):,} characters, over the 100 limit (--max-chars)")


def test_limits_must_be_positive() -> None:
    with pytest.raises(CorpusError, match="limit max_file_bytes must be positive"):
        Limits(max_file_bytes=0)


# --- duplicates -----------------------------------------------------------------------------------


def test_exact_duplicates_keep_the_first_in_id_order(tmp_path: Path) -> None:
    write(tmp_path, {"b.txt": ARTICLE, "a.md": ARTICLE + "\n\n\n", "c/copy.txt": "  " + ARTICLE})
    corpus = read_corpus(tmp_path)
    assert [d.id for d in corpus.documents] == ["a.md"]
    found = statuses(corpus)
    assert found["b.txt"] == ("duplicate", "duplicate of a.md")
    assert found["c/copy.txt"] == ("duplicate", "duplicate of a.md")


def test_near_duplicates_are_recorded(tmp_path: Path) -> None:
    edited = ARTICLE.replace("trade, learning", "commerce, learning")
    write(tmp_path, {"original.txt": ARTICLE, "edited.txt": edited, "other.txt": OTHER})
    corpus = read_corpus(tmp_path)
    assert [d.id for d in corpus.documents] == ["edited.txt", "other.txt"]
    assert statuses(corpus)["original.txt"] == ("duplicate", "duplicate of edited.txt")


def test_reworded_documents_are_not_duplicates(tmp_path: Path) -> None:
    words = ARTICLE.split()
    reworded = " ".join(w.upper() if i % 8 == 0 else w for i, w in enumerate(words))
    # upper-casing alone is not a change: shingles are case-folded
    assert near_duplicates([ARTICLE, reworded]) == {1: 0}
    rewritten = " ".join("changed" if i % 8 == 0 else w for i, w in enumerate(words))
    write(tmp_path, {"a.txt": ARTICLE, "b.txt": rewritten})
    assert [d.id for d in read_corpus(tmp_path).documents] == ["a.txt", "b.txt"]


def test_near_duplicates_compare_with_kept_documents_only() -> None:
    # Each changed word changes 5 of 396 shingles: 4 changes keep Jaccard at 0.905, 8 give 0.816.
    words = [f"w{i}" for i in range(400)]

    def changed(base: list[str], positions: list[int]) -> list[str]:
        return [f"x{i}" if i in positions else w for i, w in enumerate(base)]

    b = changed(words, [50, 150, 250, 350])
    c = changed(b, [100, 200, 300, 380])
    assert near_duplicates([" ".join(words), " ".join(b), " ".join(c)]) == {1: 0}
    assert near_duplicates([" ".join(b), " ".join(c)]) == {1: 0}


def test_near_duplicates_handle_short_and_empty_texts() -> None:
    assert near_duplicates(["", "...", "one two", "one two", "one three"]) == {3: 2}


def test_near_duplicates_scale_to_ten_thousand_documents() -> None:
    rng = random.Random(7)
    vocabulary = [f"word{i}" for i in range(5000)]
    texts = [" ".join(rng.choices(vocabulary, k=150)) for _ in range(10_000)]
    texts[9_999] = texts[1234].replace(texts[1234].split()[75], "edited", 1)
    assert near_duplicates(texts) == {9_999: 1234}


def test_a_shingle_every_text_shares_stays_out_of_the_prefixes_of_fifty_thousand_texts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Texts x the commonest bucket's count pass 2**31 here: the rarest-first order must not overflow
    (it did in 32 bits, putting the shared shingle in every prefix: a billion candidate pairs)."""
    import govcompare.corpus as corpus_module

    def no_index(*args: object) -> dict[int, int]:
        raise AssertionError("fell back to the one-by-one index: the prefixes are not the rare shingles")

    monkeypatch.setattr(corpus_module, "_near_duplicates_by_index", no_index)
    rng = np.random.default_rng(11)
    shared = np.uint32(2**31 + 12345)
    sets = [
        np.unique(np.append(rng.integers(0, 2**32, 59, dtype=np.uint64).astype(np.uint32), shared))
        for _ in range(50_000)
    ]
    sets[40_000] = sets[123].copy()
    assert near_duplicate_sets(sets) == {40_000: 123}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h"]), max_size=40),
        min_size=2,
        max_size=12,
    ),
    st.sampled_from([0.5, 0.7, 0.9]),
)
def test_candidate_pairs_find_what_the_index_finds(words: list[list[str]], threshold: float) -> None:
    """Array-built candidate pairs and the one-by-one prefix index agree (and with brute force)."""
    sets = shingle_sets([" ".join(w) for w in words], size=2)
    by_pairs = near_duplicate_sets(sets, threshold)
    assert near_duplicate_sets(sets, threshold, max_pairs=0) == by_pairs  # forced onto the index
    # Prefixes may be taken in any order all texts share: with every bucket counted alike (shingles
    # then ordered by value alone), the same pairs are found.
    flat = lambda sets, total: (np.zeros(1 << 10, dtype=np.int64), 22)  # noqa: E731
    with unittest.mock.patch.object(corpus_module, "_bucket_counts", flat):
        assert near_duplicate_sets(sets, threshold) == by_pairs
    expected: dict[int, int] = {}
    for j, b in enumerate(sets):
        for i, a in enumerate(sets[:j]):
            if i in expected or not (a.size and b.size):
                continue
            common = len(set(a.tolist()) & set(b.tolist()))
            if common >= threshold * (a.size + b.size - common) - 1e-9:
                expected[j] = i
                break
    assert by_pairs == expected


# --- strict mode ----------------------------------------------------------------------------------


def test_strict_mode_lists_every_problem(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": ARTICLE, "b.txt": ARTICLE, "c.pptx": b"x", "d.txt": b""})
    with pytest.raises(CorpusError) as raised:
        read_corpus(tmp_path, strict=True)
    lines = raised.value.lines()
    assert lines[0].startswith("3 file(s) could not be used (strict mode")
    assert any(line.endswith("b.txt: duplicate: duplicate of a.txt") for line in lines)
    assert any("c.pptx: unsupported: no reader for .pptx" in line for line in lines)
    assert any(line.endswith("d.txt: empty: file is empty (0 bytes)") for line in lines)


def test_without_strict_the_run_goes_on(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": ARTICLE, "c.pptx": b"x"})
    corpus = read_corpus(tmp_path)
    assert [d.id for d in corpus.documents] == ["a.txt"]
    assert [Path(r.path).name for r in corpus.skipped()] == ["c.pptx"]
    assert corpus.summary() == {"read": 1, "duplicate": 0, "empty": 0, "unsupported": 1, "failed": 0}


def test_strict_mode_accepts_a_manifest(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": ARTICLE, "corpus.yaml": "- file: a.txt\n  actor: US\n"})
    corpus = read_corpus(tmp_path, strict=True)
    assert corpus.documents[0].actor == "US"


# --- metadata -------------------------------------------------------------------------------------


def test_metadata_from_front_matter_and_derived(tmp_path: Path) -> None:
    for name in ("good_front_matter.md", "good_heading_title.md", "good_chinese.txt", "good_plain.txt"):
        shutil.copy(DATA / name, tmp_path / name)
    write(tmp_path, {"no-title_here.txt": "A first line that is a full sentence.\n\nAnother one."})
    docs = {d.id: d for d in read_corpus(tmp_path).documents}

    front = docs["good_front_matter.md"]
    assert (front.title, front.date, front.actor, front.source_url, front.kind, front.language) == (
        "Readout of a Roundtable on the Declaration",
        "2022-04-29",
        "US",
        "https://example.gov/readout",
        "readout",
        "en",
    )
    assert front.extra == {"tags": "statements-releases", "published_time": "2022-04-29T12:31:26-04:00"}
    assert docs["good_heading_title.md"].title == "Cyber Sovereignty and Shared Governance"
    assert docs["good_plain.txt"].title == "Open Internet Principles"
    assert docs["good_chinese.txt"].title == "构建网络空间命运共同体"
    assert docs["good_chinese.txt"].language == "zh"
    assert docs["no-title_here.txt"].title == "No title here"


def test_metadata_from_pdf_and_docx(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "report.pdf": make_pdf([[(72, 700, 11, "Report body text on the only page.")]], title="A Report"),
            "paper.docx": make_docx(["Paper body text."], title="A Paper"),
        },
    )
    docs = {d.id: d for d in read_corpus(tmp_path).documents}
    assert docs["report.pdf"].title == "A Report"
    assert docs["paper.docx"].title == "A Paper"


YAML_LIST = """\
- file: a.md
  title: Manifest Title
  date: 2022-05-01
  actor: US and partners
  source_url: https://example.org/a
  language: en
  kind: declaration
- path: sub/b.txt
  actor: China
"""

YAML_MAPPING = """\
a.md:
  title: Manifest Title
  date: 2022-05-01
  actor: US and partners
  source_url: https://example.org/a
  language: en
  kind: declaration
sub/b.txt:
  actor: China
"""

CSV = """\
file,title,date,actor,source_url,language,kind
a.md,Manifest Title,2022-05-01,US and partners,https://example.org/a,en,declaration
./sub/b.txt,,,China,,,
"""

FRONT_MATTER_DOC = (
    "---\ntitle: Front Matter Title\ndate: 2020-01-01\nside: US\nurl: https://x\n---\n\nBody.\n"
)


@pytest.mark.parametrize(
    ("name", "manifest"),
    [("corpus.yaml", YAML_LIST), ("corpus.yml", YAML_MAPPING), ("corpus.csv", CSV)],
    ids=["yaml-list", "yaml-mapping", "csv"],
)
def test_manifest_overrides_the_file(tmp_path: Path, name: str, manifest: str) -> None:
    write(tmp_path, {"a.md": FRONT_MATTER_DOC, "sub/b.txt": OTHER, name: manifest})
    corpus = read_corpus(tmp_path)
    a, b = corpus.documents
    assert (a.title, a.date, a.actor, a.source_url, a.language, a.kind) == (
        "Manifest Title",
        "2022-05-01",
        "US and partners",
        "https://example.org/a",
        "en",
        "declaration",
    )
    assert (b.actor, b.date, b.title) == ("China", None, "B")
    record = statuses(corpus)[name]
    assert record == ("read", "manifest: metadata for 2 file(s)")
    assert corpus.summary()["read"] == 3


@pytest.mark.parametrize(
    ("name", "manifest", "message"),
    [
        (
            "corpus.yaml",
            "- file: a.txt\n- file: missing.txt\n",
            r"corpus.yaml:2: 'missing.txt' matches no file",
        ),
        (
            "corpus.csv",
            "file,actor\na.txt,US\nmissing.txt,CN\n",
            r"corpus.csv:3: 'missing.txt' matches no file",
        ),
        ("corpus.yaml", "a.txt:\n  autor: US\n", r"corpus.yaml:2: unknown field 'autor' \(allowed: "),
        ("corpus.csv", "file,autor\na.txt,US\n", r"corpus.csv:1: unknown column 'autor'"),
        ("corpus.yaml", "- file: a.txt\n  date: someday\n", r"corpus.yaml:2: date: cannot read 'someday'"),
        ("corpus.yaml", "- file: a.txt\n- file: a.txt\n", r"corpus.yaml:2: 'a.txt' is listed twice"),
        ("corpus.yaml", "- file: a.txt\n  title: [a, b]\n", r"corpus.yaml:2: title: expected a single value"),
        ("corpus.yaml", "- just a string\n", r"corpus.yaml:1: each entry must be a mapping"),
        ("corpus.yaml", "- title: no file\n", r"corpus.yaml:1: each entry needs exactly one 'file'"),
        ("corpus.yaml", "key: [unclosed\n", r"corpus.yaml:2: not valid YAML"),
        ("corpus.yaml", "just text\n", r"corpus.yaml:1: expected a list of entries or a mapping"),
        ("corpus.csv", "title,actor\nx,y\n", r"corpus.csv:1: the header needs a 'file' column"),
    ],
)
def test_bad_manifest_is_an_error_naming_the_place(
    tmp_path: Path, name: str, manifest: str, message: str
) -> None:
    write(tmp_path, {"a.txt": ARTICLE, name: manifest})
    with pytest.raises(CorpusError, match=message):
        read_corpus(tmp_path)


def test_two_manifests_are_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": ARTICLE, "corpus.yaml": "", "corpus.csv": "file\n"})
    with pytest.raises(CorpusError, match="two manifests in one corpus folder"):
        read_corpus(tmp_path)


def test_manifest_in_a_subfolder_is_an_ordinary_file(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": ARTICLE, "sub/corpus.yaml": "- file: nothing.txt\n"})
    assert statuses(read_corpus(tmp_path))["sub/corpus.yaml"][0] == "unsupported"


# --- the corpus object ----------------------------------------------------------------------------


def test_progress_is_called_once_per_file(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": ARTICLE, "b.txt": OTHER, "c.pptx": b"x"})
    calls: list[tuple[int, int]] = []
    read_corpus(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_frames_and_summary(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": ARTICLE, "b.txt": ARTICLE, "c.pptx": b"x"})
    corpus = read_corpus(tmp_path)
    docs = corpus.documents_frame()
    assert list(docs.columns) == [
        "id", "path", "title", "date", "actor", "source_url", "language", "kind", "chars", "words",
        "sha256",
    ]  # fmt: skip
    assert docs["id"].tolist() == ["a.txt"]
    assert docs["chars"].tolist() == [len(ARTICLE)]
    records = corpus.records_frame()
    assert list(records.columns) == ["path", "status", "sha256", "bytes", "document", "reason"]
    assert records["status"].tolist() == ["read", "duplicate", "unsupported"]
    assert corpus.summary() == {"read": 1, "duplicate": 1, "empty": 0, "unsupported": 1, "failed": 0}
    assert all(isinstance(r, InputRecord) for r in corpus.skipped())


def test_document_lookup(tmp_path: Path) -> None:
    write(tmp_path, {"a.txt": ARTICLE})
    corpus = read_corpus(tmp_path)
    assert corpus.document("a.txt").text == ARTICLE
    with pytest.raises(CorpusError, match="no document 'b.txt'"):
        corpus.document("b.txt")


def test_the_shared_corpus_reads_whole() -> None:
    corpus = read_corpus(SHARED_CORPUS, strict=True)
    assert len(corpus.documents) == 9
    pdf = corpus.document("us-national-cybersecurity-strategy-2023.pdf")
    assert (pdf.title, pdf.date, pdf.language) == ("NATIONAL CYBERSECURITY STRATEGY", "2023-03-01", "en")
    fact_sheet = corpus.document("us-dfi-2022-fact-sheet.md")
    assert fact_sheet.title.startswith("FACT SHEET: United States and 60 Global Partners")
    assert fact_sheet.date == "2022-04-28"


def test_a_manifest_in_each_folder_given_is_read(tmp_path: Path) -> None:
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "doc.txt").write_text(f"Text of document {name} about the internet and its governance.\n")
        (folder / "corpus.yaml").write_text(f"- file: doc.txt\n  title: Title {name}\n  discusses: x\n")
    corpus = read_corpus([tmp_path / "a", tmp_path / "b"])
    assert [(d.id, d.title, d.extra["discusses"]) for d in corpus.documents] == [
        ("a/doc.txt", "Title a", "x"),
        ("b/doc.txt", "Title b", "x"),
    ]
    assert corpus.summary()["unsupported"] == 0


def test_near_duplicate_sets_of_any_integer_type_agree() -> None:
    texts = [ARTICLE, ARTICLE.replace("open", "opened"), "Something else entirely, with other words in it."]
    sets = shingle_sets(texts, size=2)
    wide = [s.astype(np.int64) + (1 << 40) for s in sets]  # values past 32 bits: buckets use the low 32
    assert near_duplicate_sets(wide) == near_duplicate_sets(sets) == {1: 0}
