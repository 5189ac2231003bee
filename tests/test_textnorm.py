from __future__ import annotations

import codecs
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govcompare.errors import CorpusError
from govcompare.textnorm import BINARY, _normalise_steps, decode, guess_language, normalise

ENGLISH = "The Internet should remain open, free, global, interoperable, reliable and secure."
CHINESE = (
    "构建网络空间命运共同体，尊重网络主权，推动全球互联网治理体系变革。各国应当共同维护网络空间和平与安全。"
)
FRENCH = (
    "Le café de la gare était fermé. Nous avons marché jusqu'à l'hôtel, où le réceptionniste "
    "nous a donné une clé."
)
TYPOGRAPHIC = "The minister said: “We will defend an open Internet” — and added that naïve rules won’t work."


# --- decode ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(ENGLISH.encode("utf-8"), ENGLISH, id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + TYPOGRAPHIC.encode("utf-8"), TYPOGRAPHIC, id="utf-8-bom"),
        pytest.param(CHINESE.encode("utf-8"), CHINESE, id="utf-8-chinese"),
        pytest.param(ENGLISH.encode("utf-16"), ENGLISH, id="utf-16-bom"),
        pytest.param(codecs.BOM_UTF16_BE + CHINESE.encode("utf-16-be"), CHINESE, id="utf-16-be-bom"),
        pytest.param(ENGLISH.encode("utf-16-le"), ENGLISH, id="utf-16-le-no-bom"),
        pytest.param(ENGLISH.encode("utf-16-be"), ENGLISH, id="utf-16-be-no-bom"),
        pytest.param(CHINESE.encode("utf-16-le"), CHINESE, id="utf-16-le-chinese-no-bom"),
        pytest.param(ENGLISH.encode("utf-32"), ENGLISH, id="utf-32-bom"),
        pytest.param(CHINESE.encode("gb18030"), CHINESE, id="gb18030"),
        pytest.param(FRENCH.encode("latin-1"), FRENCH, id="latin-1"),
        pytest.param(TYPOGRAPHIC.encode("cp1252"), TYPOGRAPHIC, id="cp1252"),
        pytest.param("naïve café".encode("latin-1"), "naïve café", id="latin-1-short"),
        pytest.param(b"", "", id="empty"),
    ],
)
def test_decode_gets_the_text_back(data: bytes, expected: str) -> None:
    assert decode(data) == expected


def test_decode_keeps_utf8_with_a_stray_byte() -> None:
    data = TYPOGRAPHIC.encode("utf-8") * 3 + b" caf\xe9 " + CHINESE.encode("utf-8")
    assert decode(data) == TYPOGRAPHIC * 3 + " caf\ufffd " + CHINESE


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(bytes(range(256)) * 8, id="all-bytes"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300), id="png-header"),
        pytest.param(bytes.fromhex("7f454c46020101000000") + bytes(200), id="elf"),
        pytest.param(b"PK\x03\x04" + bytes(range(40)) * 20, id="zip-like"),
    ],
)
def test_decode_rejects_binary_data(data: bytes) -> None:
    with pytest.raises(CorpusError, match=BINARY):
        decode(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_decode_raises_nothing_but_corpus_error(data: bytes) -> None:
    try:
        result = decode(data)
    except CorpusError as exc:
        assert str(exc) == BINARY
    else:
        assert isinstance(result, str)


# --- normalise ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("a\r\nb\rc", "a\nb\nc", id="line-ends"),
        pytest.param("one\n\n\n\n\ntwo", "one\n\ntwo", id="blank-lines-collapse"),
        pytest.param("one\n   \n\t\ntwo", "one\n\ntwo", id="whitespace-only-lines-are-blank"),
        pytest.param("a  b\t\tc", "a b c", id="spaces-and-tabs-collapse"),
        pytest.param("end   \nnext", "end\nnext", id="trailing-spaces"),
        pytest.param("United\u00a0States\u2009and\u3000partners", "United States and partners", id="spaces"),
        pytest.param("zero\u200bwidth\u200d\ufeffgone\u00ad", "zerowidthgone", id="invisible"),
        pytest.param("bell\x07 and\x00 nul", "bell and nul", id="control-chars"),
        pytest.param("cafe\u0301", "café", id="nfc"),
        pytest.param("“quoted” — ‘dash’ – kept", "“quoted” — ‘dash’ – kept", id="typography-kept"),
        pytest.param("\n\n  text  \n\n", "text", id="stripped"),
        pytest.param("para\u2029next", "para\n\nnext", id="paragraph-separator"),
        pytest.param("", "", id="empty"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@settings(max_examples=500, deadline=None)
@given(
    st.text(
        alphabet=st.characters(exclude_categories=())  # surrogates too
        | st.sampled_from("\r\n\t \u00a0\u200b\u2028\u2029\u0301\x85")
    )
)
def test_normalise_properties(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert "\r" not in once
    assert "\n\n\n" not in once
    assert all(line == line.rstrip() for line in once.split("\n"))
    assert not once.startswith(("\n", " ")) and not once.endswith(("\n", " "))
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in once.replace("\n", ""))
    once.encode("utf-8")  # always writable
    assert once == _normalise_steps(text)  # the one-scan shortcut for clean text changes nothing


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab \n\t.\u00e9e\u0301\u3000")))
def test_normalise_shortcut_agrees_with_every_step(text: str) -> None:
    assert normalise(text) == _normalise_steps(text)


# --- language -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ENGLISH, "en"),
        (CHINESE, "zh"),
        (CHINESE + " ICANN and WTO", "zh"),
        (ENGLISH + " 网络主权", "en"),
        ("1234 — 5678", None),
        ("1234 5678", None),
        ("ASCII only", "en"),
    ],
)
def test_guess_language(text: str, expected: str | None) -> None:
    assert guess_language(text) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(["a", " ", "\n", "\t", "\x01", "\x0b", "\x1b", "\x1f", "\x7f", "é", "中"])
    )
)
def test_control_characters_counted_in_bytes_or_in_text_alike(text: str) -> None:
    """Control characters are counted in the UTF-8 bytes for speed: the verdict is the text's own."""
    from govcompare.textnorm import _checked

    def verdict(*args: object) -> str | None:
        try:
            return _checked(*args)  # type: ignore[arg-type]
        except CorpusError as error:
            return str(error)

    assert verdict(text, text.encode("utf-8")) == verdict(text)
