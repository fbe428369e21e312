"""Figures in the notes: the topic note's "Figures" section and the digest's seed-style phrase.

    figures = latest_figures(conn, ids, as_of=day)                  # newsroom.warehouse.metrics
    story_phrase(figures["metagpt"], as_of=day)   # "65,024 GitHub stars, +1.2k this week"
    with_figures(note_markdown, figures["metagpt"], as_of=day)      # adds "## Figures"

Both read only rows observed on or before the day they are rendered for (the digest's day;
the topic note's latest digest day), so a backfill renders the figures as they were then
and the result does not depend on the order days are rebuilt in. A figure older than
``max_age_days`` is shown in a note with its date and left out of a digest story.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
import re
from typing import Any

__all__ = ["LABELS", "entity_note_with_figures", "story_figure_phrases", "compact", "figures_section", "front_matter_figures", "story_phrase", "with_figures"]

#: metric → (label, headline priority: lower first; None = not a headline figure)
LABELS: dict[str, tuple[str, int | None]] = {
    "stars": ("GitHub stars", 0),
    "downloads_30d": ("downloads in 30 days", 1),
    "downloads_last_month": ("PyPI downloads last month", 2),
    "downloads_all_time": ("downloads all time", None),
    "likes": ("likes", None),
    "forks": ("forks", None),
    "watchers": ("watchers", None),
    "open_issues": ("open issues", None),
    "downloads_last_week": ("PyPI downloads last week", None),
    "downloads_last_day": ("PyPI downloads yesterday", None),
    "latest_release": ("latest release", None),
    "latest_release_at": ("released", None),
    "pushed_at": ("last push", None),
    "last_modified": ("last modified", None),
    "gated": ("gated", None),
}
#: what a topic note lists (dates and flags stay in the warehouse)
NOTE_METRICS = frozenset({"stars", "forks", "watchers", "open_issues", "latest_release", "downloads_30d",
                          "downloads_all_time", "likes", "downloads_last_day", "downloads_last_week",
                          "downloads_last_month"})
_HUMAN = {"github": "https://github.com/{}", "huggingface": "https://huggingface.co/{}",
          "pypistats": "https://pypi.org/project/{}/"}
_SERVICE = {"github": "GitHub", "huggingface": "Hugging Face", "pypistats": "PyPI"}


def compact(n: int, signed: bool = False) -> str:
    """1234 → 1.2k, 5_884_443 → 5.9M; with ``signed`` a + or − in front."""
    sign = ("+" if n > 0 else "−" if n < 0 else "±") if signed else ("−" if n < 0 else "")
    a = abs(n)
    for div, unit in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if a >= div:
            text = f"{a / div:.1f}".rstrip("0").rstrip(".")
            return f"{sign}{text}{unit}"
    return f"{sign}{a:,}"


def _stale(r: dict[str, Any], as_of: date, max_age_days: int) -> bool:
    return (as_of - r["day"]).days > max_age_days


def _headline(figs: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    ranked = [r for r in figs if r.get("value") is not None and LABELS.get(r["metric"], ("", None))[1] is not None]
    if not ranked:
        return None
    return min(ranked, key=lambda r: (LABELS[r["metric"]][1], -(r["value"] or 0), r["subject"]))


def story_phrase(figs: Sequence[dict[str, Any]], as_of: date, max_age_days: int = 7) -> str | None:
    """The entity's headline figure, seed-style: "65,024 GitHub stars, +1.2k this week"; None
    when it has none fresh enough. An organisation's top model is named: "Llama-3.1-8B-Instruct:
    8,712,721 downloads in 30 days"."""
    fresh = [r for r in figs if not _stale(r, as_of, max_age_days)]
    top = _headline(fresh)
    if top is None:
        return None
    label = LABELS[top["metric"]][0]
    text = f"{top['value']:,} {label}"
    if top["service"] == "huggingface":  # an organisation's top model: name it (API text: keep it plain)
        text = f"{re.sub(r'[^A-Za-z0-9._-]', '', top['subject'].split('/')[-1])[:80]}: {text}"
    if top.get("change_7d"):
        text += f", {compact(top['change_7d'], signed=True)} this week"
    return text


def _section_order(r: dict[str, Any]) -> tuple:
    prio = LABELS.get(r["metric"], ("", None))[1]
    return (99 if prio is None else prio, r["service"], r["subject"].lower(), list(LABELS).index(r["metric"])
            if r["metric"] in LABELS else 99, r["metric"])


def _value(r: dict[str, Any]) -> str:
    if r.get("value") is not None:
        return f"{r['value']:,}"
    return str(r.get("value_text") or "")


def figures_section(figs: Sequence[dict[str, Any]], as_of: date, max_age_days: int = 7) -> str:
    """A "## Figures" Markdown section: one table row per figure with its change over 7 and 30
    days, the day observed (with "as of" when stale) and a link to where it comes from."""
    figs = [r for r in figs if r["metric"] in NOTE_METRICS]
    if not figs:
        return ""
    from newsroom.digest.render import inline, link  # the vault's escaping: API text is untrusted

    rows = ["## Figures", "", "| figure | subject | value | 7 days | 30 days | observed |", "|---|---|---|---|---|---|"]
    for r in sorted(figs, key=_section_order):
        label = LABELS.get(r["metric"], (r["metric"], None))[0]
        subject = link(r["subject"], _HUMAN.get(r["service"], "{}").format(r["subject"]))
        d7 = compact(r["change_7d"], signed=True) if r.get("change_7d") is not None else "—"
        d30 = compact(r["change_30d"], signed=True) if r.get("change_30d") is not None else "—"
        when = r["day"].isoformat()
        if _stale(r, as_of, max_age_days):
            when = f"as of {when} (stale)"
        # inline() escapes "|" too, so API text cannot break out of its table cell
        rows.append(f"| {inline(_SERVICE.get(r['service'], r['service']) + ' ' + label, 80)} | {subject} "
                    f"| {inline(_value(r), 200)} | {d7} | {d30} | {when} |")
    return "\n".join(rows) + "\n"


def front_matter_figures(figs: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Headline numbers as note properties (``github_stars: 65024``), so a maps-of-content query
    (Obsidian properties, Dataview) can sort entities by them; the largest subject per metric."""
    out: dict[str, int] = {}
    keys = {"stars": "github_stars", "downloads_30d": "hf_downloads_30d", "downloads_last_month": "pypi_downloads_month"}
    for r in figs:
        k = keys.get(r["metric"])
        if k and r.get("value") is not None:
            out[k] = max(out.get(k, 0), int(r["value"]))
    return out


def with_figures(note: str, figs: Sequence[dict[str, Any]], as_of: date, max_age_days: int = 7) -> str:
    """``note`` with a Figures section before "## See also" (else at the end) and the headline
    numbers added to its front matter. Unchanged when there are no figures."""
    section = figures_section(figs, as_of, max_age_days)
    if not section:
        return note
    marker = "\n## See also"
    if marker in note:
        head, tail = note.split(marker, 1)
        note = f"{head.rstrip()}\n\n{section}{marker}{tail}"
    else:
        note = f"{note.rstrip()}\n\n{section}"
    props = front_matter_figures(figs)
    if props and note.startswith("---\n"):
        end = note.find("\n---", 4)
        if end > 0:
            extra = "".join(f"\n{k}: {v}" for k, v in sorted(props.items()))
            note = note[:end] + extra + note[end:]
    return note


# ----------------------------------------------------------------------------- digest call sites
def _max_age() -> int:
    from newsroom.metrics.settings import get_metrics_settings

    return get_metrics_settings().max_age_days


def story_figure_phrases(conn, entity_ids, day: date) -> dict[str, str]:
    """`` (65,024 GitHub stars, +1.2k this week)`` per entity id that has a fresh headline figure
    on ``day`` — what the digest appends to the entity's name in a story."""
    from newsroom.warehouse.metrics import latest_figures

    out = {}
    for eid, figs in latest_figures(conn, entity_ids, as_of=day).items():
        phrase = story_phrase(figs, day, _max_age())
        if phrase:
            out[eid] = f" ({phrase})"
    return out


def entity_note_with_figures(conn, entity_id: str, note: str, as_of: date) -> str:
    """The topic note with its Figures section as of ``as_of`` (its latest digest day)."""
    from newsroom.warehouse.metrics import latest_figures

    figs = latest_figures(conn, [entity_id], as_of=as_of).get(entity_id, [])
    return with_figures(note, figs, as_of, _max_age())
