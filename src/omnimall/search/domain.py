"""Text rules of the search index: normalising queries and cutting text into index terms.

Pure Python (jieba is a plain library). Index text and query text go through the SAME
tokenizer, so whatever jieba makes of "运动鞋" at index time it makes of it at query time.
Terms are lower-cased, accent-free runs of word characters: they can never carry FTS5 or
tsquery syntax (quotes, ``*``, ``:``, ``&|!``, parentheses), so queries built from them
are always well-formed whatever a shopper types.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

MAX_QUERY_LENGTH = 100  # characters kept of a search text; nobody types more
MAX_QUERY_TERMS = 8  # terms used of a query; bounds the work one request can cause
MAX_TERM_LENGTH = 64  # longer "words" are junk (hashes, pasted URLs), never indexed

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
# Word characters except "_" (FTS5's unicode61 tokenizer splits on it; so do we).
_WORD = re.compile(r"[^\W_]+")
_LATIN = re.compile(r"[a-z]{3,}")
_SPACE = re.compile(r"\s+")

_jieba_lock = threading.Lock()
_jieba_ready = False


def _jieba():  # the jieba module (untyped)
    """jieba, initialised once per process (0.5 s, ~90 MB) and only when Chinese shows up."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_ready = True
    return jieba


def warm_up() -> None:
    """Load jieba now rather than on the first Chinese search (for server start-up hooks)."""
    _jieba()


def normalise_query(text: str) -> str:
    """What the shopper meant to type: NFKC, no control characters, single spaces, ≤ 100."""
    text = unicodedata.normalize("NFKC", text or "")
    # Control and surrogate characters (NUL, lone surrogates) break databases and logs.
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return _SPACE.sub(" ", text).strip()[:MAX_QUERY_LENGTH].strip()


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def is_latin_term(term: str) -> bool:
    """Terms typo correction works on: plain Latin words of three letters or more."""
    return _LATIN.fullmatch(term) is not None


def _fold(token: str) -> str:
    """Lower-case without accents: "Café" and "cafe" are the same term."""
    token = token.lower()
    if token.isascii():
        return token
    decomposed = unicodedata.normalize("NFKD", token)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


@lru_cache(maxsize=16384)
def _tokens(text: str) -> tuple[str, ...]:
    # Cached: brand, category, colour and attribute texts repeat across thousands of
    # products, so a rebuild segments each distinct string once; popular queries too.
    # Bounded: ~16k short strings is a few MB per worker.
    text = unicodedata.normalize("NFKC", text)
    pieces: Iterable[str] = _jieba().cut_for_search(text) if has_cjk(text) else (text,)
    out: list[str] = []
    for piece in pieces:
        out.extend(w for w in _WORD.findall(_fold(piece)) if len(w) <= MAX_TERM_LENGTH)
    return tuple(out)


def tokenize(text: str) -> tuple[str, ...]:
    """Query terms of ``text`` in order (duplicates kept)."""
    return _tokens(text) if text else ()


@lru_cache(maxsize=16384)
def _index_tokens(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for term in tokenize(text):
        seen.setdefault(term, None)
        if len(term) > 1 and has_cjk(term):
            for ch in term:
                if has_cjk(ch):
                    seen.setdefault(ch, None)
    return tuple(seen)


def index_terms(texts: Iterable[str]) -> list[str]:
    """Index terms of several texts, each once, in first-seen order.

    Besides jieba's words, every Chinese character of a multi-character word is indexed on
    its own, so that one-character queries ("鞋", "裙") find "运动鞋" and "连衣裙".
    """
    return list(dict.fromkeys(chain.from_iterable(_index_tokens(t) for t in texts if t)))


@dataclass(frozen=True, slots=True)
class QueryTerm:
    text: str
    prefix: bool  # match index terms starting with ``text``


def parse_query(query: str, *, typing: bool = False) -> tuple[QueryTerm, ...]:
    """The AND-ed terms of a search text, each matching index terms that start with it.

    Prefixes serve typing ("sneak" finds sneakers) and jieba's case quirks: it cuts
    "t恤" into "t" + "恤" but "T恤" into one word, and the prefix "t" still finds "t恤".
    A lone Latin letter in a Latin query matches only itself: as a prefix it would name
    most of the catalog and cost a scan of most of the index. Except, when ``typing``
    (suggestions), the last term: that word is still being typed.
    """
    terms: dict[str, None] = {}
    for term in tokenize(query):
        terms.setdefault(term, None)
    chinese = has_cjk(query)
    words = list(terms)[:MAX_QUERY_TERMS]
    return tuple(
        QueryTerm(
            text=t,
            prefix=len(t) > 1 or chinese or not t.isascii() or (typing and i == len(words) - 1),
        )
        for i, t in enumerate(words)
    )


def cjk_fallback(term: str, known: Iterable[str]) -> str | None:
    """For an unknown Chinese word, the longest part of it that the index knows.

    "鞋子" → "鞋", "运动鞋子" → "运动鞋": shoppers add suffixes and particles the catalog's
    names lack. Taking every known character instead would AND in the suffix too (子) and
    find nothing.
    """
    known_set = set(known)
    for size in range(len(term) - 1, 0, -1):
        for start in range(len(term) - size + 1):
            part = term[start : start + size]
            if has_cjk(part) and part in known_set:
                return part
    return None
