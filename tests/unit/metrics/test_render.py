"""Figures in notes: the seed-style phrase, the topic note's Figures section, staleness."""

from __future__ import annotations

from datetime import date

from newsroom.metrics.render import compact, story_phrase, with_figures

D = date(2026, 4, 9)


def fig(metric, value, day=D, service="github", subject="FoundationAgents/MetaGPT", c7=None, c30=None, text=None):
    return {"entity_id": "metagpt", "service": service, "subject": subject, "metric": metric, "value": value,
            "value_text": text, "day": day, "change_1d": None, "change_7d": c7, "change_30d": c30}


def test_the_phrase_reads_like_the_seed():
    figs = [fig("stars", 65024, c7=1210), fig("forks", 7800, c7=12)]
    assert story_phrase(figs, D) == "65,024 GitHub stars, +1.2k this week"
    assert story_phrase([fig("stars", 9935)], D) == "9,935 GitHub stars"
    org = [fig("downloads_30d", 8712721, service="huggingface", subject="meta-llama/Llama-3.1-8B-Instruct"),
           fig("downloads_30d", 5884443, service="huggingface", subject="meta-llama/Llama-3.2-3B-Instruct")]
    assert story_phrase(org, D) == "Llama-3.1-8B-Instruct: 8,712,721 downloads in 30 days"


def test_stale_figures_are_left_out_of_stories_and_dated_in_notes():
    old = [fig("stars", 65024, day=date(2026, 3, 1))]
    assert story_phrase(old, D, max_age_days=7) is None
    note = "---\ntitle: MetaGPT\n---\n# MetaGPT\n\n## Timeline\n\n- x\n\n## See also\n\n(nothing yet)\n"
    out = with_figures(note, old, D, max_age_days=7)
    assert "as of 2026-03-01 (stale)" in out
    assert out.index("## Figures") < out.index("## See also")
    assert "github_stars: 65024\n---" in out  # a property the maps of content can sort by


def test_the_section_shows_changes_and_escapes_what_the_api_said():
    figs = [fig("stars", 65024, c7=1210, c30=-40), fig("latest_release", None, text="v1 | <b>[x](javascript:1)"),
            fig("pushed_at", None, text="2026-04-09T00:00:00Z")]
    out = with_figures("# MetaGPT\n", figs, D)
    row = next(line for line in out.splitlines() if "GitHub stars" in line)
    assert "65,024" in row and "+1.2k" in row and "−40" in row and "2026-04-09" in row
    assert "[FoundationAgents/MetaGPT](https://github.com/FoundationAgents/MetaGPT)" in row
    assert "last push" not in out  # dates stay in the warehouse
    release = next(line for line in out.splitlines() if "latest release" in line)
    assert "(javascript" not in release.replace("\\](javascript", "")  # no live link
    assert release.count(" | ") == 5 and "v1 \\| " in release  # the pipe is escaped once, the row keeps 6 cells
    assert with_figures("# X\n", [], D) == "# X\n"


def test_compact():
    assert [compact(n, signed=True) for n in (1210, -40, 0, 5_884_443)] == ["+1.2k", "−40", "±0", "+5.9M"]
