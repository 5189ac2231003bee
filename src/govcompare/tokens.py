"""The one tokenizer used for passages, principle queries and keyness.

Latin-script words are lowercased, hyphens and apostrophes inside a word are dropped (so
"multi-stakeholder" and "multistakeholder" are one term), English stop words are removed and plurals are
folded ("rights" -> "right"). Runs of CJK characters become character bigrams, the usual unit for Chinese
retrieval without a word segmenter. Bigrams of adjacent kept words are added, so that "free flow" and
"cyber sovereignty" count as terms of their own.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

__all__ = ["analyze", "words"]

_TOKEN = re.compile(r"[a-z0-9]+(?:['’\-][a-z0-9]+)*|[\u3400-\u9fff\uf900-\ufaff]+")
_JOINERS = re.compile(r"['’\-]")
_STOP = frozenset(ENGLISH_STOP_WORDS) | {"s", "t", "ll", "ve", "re", "d", "m"}
_NO_PLURAL = ("ss", "us", "is", "ics", "news", "ous")


@lru_cache(maxsize=200_000)
def _fold(word: str) -> str:
    if word.endswith("’s") or word.endswith("'s"):
        word = word[:-2]
    word = _JOINERS.sub("", word)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(_NO_PLURAL):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Content words of ``text`` in order: folded, stop words removed, CJK as character bigrams."""
    out: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        first = token[0]
        if "\u3400" <= first <= "\u9fff" or "\uf900" <= first <= "\ufaff":
            out.extend(token[i : i + 2] for i in range(max(1, len(token) - 1)))
            continue
        folded = _fold(token)
        if folded not in _STOP and token not in _STOP and len(folded) > 1 and not folded.isdigit():
            out.append(folded)
    return out


_CLAUSE = re.compile(r"[.;:!?,()\[\]\"“”\n。，；：！？、（）]+")


def analyze(text: str) -> list[str]:
    """Unigrams, and bigrams within a clause, of the content words: the analyzer given to scikit-learn."""
    unigrams: list[str] = []
    bigrams: list[str] = []
    for clause in _CLAUSE.split(text):
        clause_words = words(clause)
        unigrams.extend(clause_words)
        bigrams.extend(f"{a} {b}" for a, b in pairwise(clause_words))
    return unigrams + bigrams
