"""Sentences and words: the small amount of text handling summaries and figures share.

Kept deliberately simple and deterministic (no models, no downloads): a
regex sentence splitter that knows common abbreviations, and a tokeniser
that lowercases, drops stop words and keeps numbers.
"""

from __future__ import annotations

import re
import unicodedata

_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "inc", "ltd", "co", "corp", "vs", "etc", "e.g", "i.e",
    "u.s", "u.k", "no", "fig", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "approx", "est", "gov", "gen", "rep", "sen",
}
# End punctuation, closing quotes, an optional "(source.com)" citation, then a capital.
_BOUNDARY = re.compile(r"[.!?][\"'”’)\]]*(?:\s+\([^()]{1,80}\))?\s+(?=[\"“‘(\[]?[A-Z0-9])")
_WORD = re.compile(r"[^\W_]+(?:[-'’.][^\W_]+)*", re.UNICODE)

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having he
    her here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not
    now of off on once only or other our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves said says say
    according new one two first last year years time like may might many much make made get gets got use used
    using via per within without across since still even yet""".split()
)


def normalise(text: str) -> str:
    """NFKC, unified quotes and dashes, collapsed whitespace."""
    text = unicodedata.normalize("NFKC", text or "")
    text = text.replace("\u00a0", " ")
    return re.sub(r"[ \t\r\f\v]+", " ", text)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; paragraphs (newlines) always end a sentence."""
    out: list[str] = []
    for para in normalise(text).split("\n"):
        para = para.strip()
        if not para:
            continue
        start = 0
        for m in _BOUNDARY.finditer(para):
            head = para[start : m.end()].rstrip()
            last = para[start : m.start() + 1].rsplit(" ", 1)[-1].rstrip(".!?\"'”’)]").lower()
            if last in _ABBREV or (len(last) == 1 and last.isalpha()):
                continue  # "Dr. Smith", "J. Doe": not a boundary
            out.append(head)
            start = m.end()
        tail = para[start:].strip()
        if tail:
            out.append(tail)
    return [s for s in out if s]


def tokens(text: str) -> list[str]:
    """Content words (lowercased, stop words dropped) and numbers."""
    out = []
    for w in _WORD.findall(normalise(text).lower()):
        w = w.strip(".'’")
        if not w or w in STOPWORDS:
            continue
        if len(w) < 3 and not w.isdigit():
            continue
        out.append(w)
    return out


# "(about.fb.com, techcrunch.com)" and "[2]": a source's own attributions, meaningless out of context
_CITATION = re.compile(r"\s*\((?:[\w-]+\.)+[a-z]{2,}(?:\s*,\s*(?:[\w-]+\.)+[a-z]{2,})*\)", re.I)
_NUMBERED_REF = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


def strip_citations(sentence: str) -> str:
    return _NUMBERED_REF.sub("", _CITATION.sub("", sentence)).strip()


# Markdown and HTML as Reddit self-posts and some feeds deliver them: reduced to the words a
# reader sees, so "**Muse Spark**" is not shown as "\*\*Muse Spark\*\*" and "&amp;" as "&amp;".
_TAG = re.compile(r"<(?:/?[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?|!--.*?--)>", re.S)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()\s]|\([^()]*\))+(?:\s+\"[^\"]*\")?\)")
_MD_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_MD_EMPHASIS = re.compile(r"(\*\*|\*|~~)(?=\S)(.+?)(?<=\S)\1|(?<!\w)(__|_)(?=\S)(.+?)(?<=\S)\3(?!\w)")
_MD_CODE = re.compile(r"`+([^`]+)`+")
_MD_BLOCK = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)", re.M)
_MD_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$", re.M)
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~>])")
_BARE_URL = re.compile(r"\(?\bhttps?://\S+\)?")


def prose(text: str | None) -> str:
    """``text`` with Markdown and HTML markup removed and entities decoded; paragraphs kept."""
    import html

    if not text:
        return ""
    # escaped characters are literal: hide them from the patterns, restore them at the end
    s = _MD_ESCAPE.sub(lambda m: chr(0xF0000 + ord(m.group(1))), text)
    s = _TAG.sub(" ", s)
    s = html.unescape(s)
    s = _MD_RULE.sub("", s)
    s = _MD_IMAGE.sub(r"\1", s)
    s = _MD_LINK.sub(r"\1", s)
    s = _MD_REF_LINK.sub(r"\1", s)
    s = _MD_CODE.sub(r"\1", s)
    for _ in range(2):  # "***x***" is strong inside emphasis
        s = _MD_EMPHASIS.sub(lambda m: m.group(2) if m.group(1) else m.group(4), s)
    s = _MD_BLOCK.sub("", s)
    s = _BARE_URL.sub("", s)
    s = re.sub("[\U000F0000-\U000F00FF]", lambda m: chr(ord(m.group(0)) - 0xF0000), s)
    return "\n".join(re.sub(r"[ \t]+", " ", ln).strip() for ln in s.split("\n"))
