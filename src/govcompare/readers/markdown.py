"""Markdown (.md, .markdown): YAML front matter as metadata, the rendered text without markup.

Headings, paragraphs and list items become paragraphs; emphasis and list markers go; a link keeps its
text; images are dropped; code is kept as text; a table row becomes its cells joined by `` | ``;
raw HTML keeps its text only.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

from govcompare.errors import CorpusError
from govcompare.readers.base import Limits, ReadResult, split_metadata
from govcompare.textnorm import decode
from govcompare.yamlsafe import parse_yaml

__all__ = ["read_markdown", "split_front_matter"]

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.DOTALL | re.MULTILINE)
_HTML_DROP = re.compile(
    r"<(script|style|iframe|noscript)\b.*?(?:</\1\s*>|\Z)|<!--.*?(?:-->|\Z)", re.DOTALL | re.IGNORECASE
)
_SOFT_BREAK = "\x00"
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_SOFT_BREAK = re.compile(f"(?<=[{_CJK}])\x00(?=[{_CJK}])")
_HTML_TAG = re.compile(r"<[^>]*>")
_SILENT_INLINE = frozenset(
    {"link_open", "link_close", "em_open", "em_close", "strong_open", "strong_close", "s_open"}
    | {"s_close", "html_inline", "image"}
)


def read_markdown(data: bytes, limits: Limits) -> ReadResult:
    """Read a Markdown file; front matter that is not a YAML mapping is a failure."""
    text = decode(data).replace("\r\n", "\n").replace("\r", "\n")
    front, body = split_front_matter(text)
    known, extra = split_metadata(front)
    blocks, heading = _render(body)
    return ReadResult("\n\n".join(blocks), known, extra, heading)


def split_front_matter(text: str) -> tuple[dict[object, object], str]:
    """Split ``---`` delimited YAML front matter from the body; no front matter gives ``{}``.

    The YAML is read by the same safe loader as framework files: no tags, no duplicate keys, bounded
    aliases and nesting.
    """
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    block = match.group(1)
    if all(not line.strip() or line.lstrip().startswith("#") for line in block.splitlines()):
        return {}, text[match.end() :]
    try:
        data = parse_yaml(block, source="front matter").value
    except ValueError as exc:
        problem = exc.args[0]
        line = problem.line + 1  # +1 for the opening ---
        message = problem.message
        if message.startswith("invalid YAML: "):
            raise CorpusError(
                f"front matter is not valid YAML (line {line}: {message.removeprefix('invalid YAML: ')})"
            ) from None
        raise CorpusError(f"front matter, line {line}: {message}") from None
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({type(data).__name__})"
        raise CorpusError(
            f"front matter must be a mapping of keys to values (title: ..., date: ...), not {kind}"
        )
    return data, text[match.end() :]


def _render(body: str) -> tuple[list[str], str | None]:
    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    tokens = parser.parse(body)
    blocks: list[str] = []
    heading: str | None = None
    row: list[str] | None = None
    for i, token in enumerate(tokens):
        if token.type == "inline":
            text = _inline(token.children or [])
            if row is not None:
                row.append(text)
            elif text:
                blocks.append(text)
                if heading is None and i > 0 and tokens[i - 1].type == "heading_open":
                    heading = text
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.strip("\n"))
        elif token.type == "html_block":
            blocks.append(_html_text(token.content))
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            blocks.append(" | ".join(cell for cell in row if cell))
            row = None
    return [b for b in blocks if b.strip()], heading


def _inline(children: Sequence[Token]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in _SILENT_INLINE:
            continue
        if child.type == "softbreak":
            parts.append(_SOFT_BREAK)
        elif child.type == "hardbreak":
            parts.append("\n")
        else:  # text, code_inline and anything a plugin adds
            parts.append(child.content)
    text = _CJK_SOFT_BREAK.sub("", "".join(parts))  # a wrapped Chinese line joins without a space
    return text.replace(_SOFT_BREAK, " ").strip()


def _html_text(fragment: str) -> str:
    return html.unescape(_HTML_TAG.sub(" ", _HTML_DROP.sub(" ", fragment)))
