"""Text and alias normalisation shared by the matcher and the entities-file validator.

Text is matched in a *normal form* that keeps one character per position of a
known original character, so every match maps back to the original text:

* NFKC compatibility folding (full-width letters, ligatures, no-break spaces);
* every dash/hyphen (ASCII ``-``, U+2010–U+2015, minus) and every horizontal
  space becomes one ASCII space, so "GPT-5.4", "GPT‑5.4" and "GPT 5.4" read alike;
  newlines stay newlines, so a name never matches across lines;
* curly quotes become ASCII quotes ("Meta’s" → "Meta's");
* a lower-cased copy (``folded``) of the same length for case-insensitive search.

The common case (text already NFKC after the one-to-one translation, and
lower-casing that keeps the length) costs two C-level passes; anything else
goes through a per-character path that records offsets.

Aliases are expanded into spelling *variants* instead of changing the text's
length: a hyphen or a letter/digit boundary in an alias may be written with a
space, with nothing, or with a hyphen ("Qwen3.5" / "Qwen 3.5" / "Qwen-3.5").
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_SPACES = "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u202f\u205f\u3000\ufeff"
_TABLE = {ord(c): " " for c in _DASHES + _SPACES}
_TABLE.update({ord(c): "'" for c in "\u2018\u2019\u201b\u2032\u00b4`"})
_TABLE.update({ord(c): '"' for c in "\u201c\u201d\u201e\u2033"})
_TABLE.update({ord("\r"): "\n", ord("\x0b"): "\n", ord("\x0c"): "\n", ord("\u2028"): "\n", ord("\u2029"): "\n"})

# One regex scan that touches only the characters concerned (str.translate
# does a dict lookup for every character of non-ASCII text, several times slower).
_CHANGED = re.compile("[" + re.escape("".join(chr(k) for k in _TABLE)) + "]")


def _one_to_one(text: str) -> str:
    if text.isascii() and not any(c in text for c in "-\t\r`\x0b\x0c"):
        return text
    return _CHANGED.sub(lambda m: _TABLE[ord(m.group())], text)


MAX_VARIANTS = 64


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """``cased`` and ``folded`` have the same length; ``offsets[i]`` is the index
    in the original text of normal-form character ``i`` (``None``: identity)."""

    cased: str
    folded: str
    offsets: list[int] | None
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a normal-form span back to the original text."""
        if self.offsets is None:
            return start, end
        return self.offsets[start], self.offsets[end - 1] + 1


_RUNS = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]{1,32}")


def _slow(text: str, t: str) -> NormalizedText:
    """Offsets-recording path. ``t`` is ``text`` after the one-to-one table.
    ASCII runs and already-normal non-ASCII runs are copied whole; only runs
    that NFKC or lower-casing would resize go character by character."""
    cased: list[str] = []
    folded: list[str] = []
    offsets: list[int] = []
    for run in _RUNS.finditer(t):
        seg, base = run.group(), run.start()
        if seg.isascii() or unicodedata.is_normalized("NFKC", seg):
            low = seg.lower()
            if len(low) == len(seg):
                cased.append(seg)
                folded.append(low)
                offsets.extend(range(base, base + len(seg)))
                continue
        for i, ch in enumerate(seg, start=base):
            n = unicodedata.normalize("NFKC", ch).translate(_TABLE)
            for oc in n:
                f = oc.lower()
                cased.append(oc)
                folded.append(f if len(f) == 1 else oc)
                offsets.append(i)
    return NormalizedText("".join(cased), "".join(folded), offsets, len(text))


def normalize_text(text: str) -> NormalizedText:
    """The matcher's normal form of ``text`` (see the module docstring)."""
    t = _one_to_one(text)
    if t.isascii() or unicodedata.is_normalized("NFKC", t):
        f = t.lower()
        if len(f) == len(t):
            return NormalizedText(t, f, None, len(text))
    return _slow(text, t)


_WS = re.compile(r"\s+")


def normalize_term(term: str) -> str:
    """An alias in normal form (case kept): NFKC, dashes and spaces → one space."""
    n = unicodedata.normalize("NFKC", term.translate(_TABLE)).translate(_TABLE)
    return _WS.sub(" ", n).strip()


def _kind(c: str) -> str:
    if c.isdigit():
        return "d"
    if c.isalpha():
        return "a"
    return "o"


def term_variants(term: str) -> list[str]:
    """Spellings of an alias that mean the same (normal form, case kept).

    A dash between letters/digits may be a space or nothing ("SWE-bench",
    "SWE bench", "SWEbench"); a space at a letter/digit boundary may be dropped
    ("Qwen 3.5" → "Qwen3.5") and a letter→digit boundary may gain one
    ("GPT5" → "GPT 5"). Digits never run together ("2024-25" keeps its gap).
    """
    raw = unicodedata.normalize("NFKC", term.translate({ord(c): " " for c in _SPACES})).strip()
    raw = _WS.sub(" ", raw)
    pieces: list[list[str]] = []  # alternating: char, options, char, options, …
    i = 0
    chars: list[str] = []
    seps: list[tuple[str, ...]] = []
    while i < len(raw):
        ch = raw[i]
        if ch in _DASHES or ch == " ":
            j = i
            has_dash = False
            while j < len(raw) and (raw[j] in _DASHES or raw[j] == " "):
                has_dash = has_dash or raw[j] in _DASHES
                j += 1
            if not chars or j >= len(raw):
                i = j
                continue
            a, b = _kind(chars[-1]), _kind(raw[j])
            if has_dash and {a, b} <= {"a", "d"} and not (a == "d" and b == "d"):
                opts: tuple[str, ...] = (" ", "")
            elif not has_dash and {a, b} == {"a", "d"}:
                opts = (" ", "")
            else:
                opts = (" ",)
            seps[-1] = opts
            i = j
            continue
        if chars and seps[-1] == ("",) and _kind(chars[-1]) == "a" and _kind(ch) == "d":
            seps[-1] = ("", " ")
        chars.append(ch)
        seps.append(("",))
        i += 1
    if not chars:
        return []
    seps[-1] = ("",)
    for c, s in zip(chars, seps):
        pieces.append([c])
        pieces.append(list(s))
    choice_count = 1
    for s in seps:
        choice_count *= len(s)
    if choice_count > MAX_VARIANTS:
        # Too many optional gaps: keep the spelling as written (normalised),
        # all gaps closed and all gaps open.
        written = normalize_term(term)
        closed = "".join(c + ("" if len(s) > 1 else s[0]) for c, s in zip(chars, seps))
        opened = "".join(c + (" " if len(s) > 1 else s[0]) for c, s in zip(chars, seps))
        out = [written, normalize_term(closed), normalize_term(opened)]
    else:
        out = ["".join(p) for p in itertools.product(*pieces)]
        out = [normalize_term(v) for v in out]
    seen: set[str] = set()
    uniq = []
    for v in out:
        if v and v not in seen:
            seen.add(v)
            uniq.append(v)
    return uniq
