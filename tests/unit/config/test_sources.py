from pathlib import Path

import pytest

from newsroom.config import ConfigError, load_sources
from newsroom.settings import DEFAULTS_DIR


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "sources.yaml"
    p.write_text(text)
    return p


def test_shipped_default_sources_are_valid():
    src = load_sources(DEFAULTS_DIR / "sources.yaml")
    assert src.beat == "AI" and len(src.enabled_feeds()) >= 10
    assert all(f.url.startswith("https://") for f in src.feeds)


def test_error_names_file_entry_and_field(tmp_path):
    p = write(tmp_path, "beat: AI\nfeeds:\n  - {name: ok, url: 'https://a.example/feed'}\n"
                        "  - {name: verge, url: 'ftp://x/feed'}\n")
    with pytest.raises(ConfigError) as e:
        load_sources(p)
    msg = str(e.value)
    assert str(p) in msg and "feeds[1] 'verge'" in msg and "url" in msg and "http" in msg


def test_duplicate_feed_names_unknown_keys_and_timezone(tmp_path):
    p = write(tmp_path, "timezone: Mars/Olympus\nfeeds:\n  - {name: a, url: 'https://a/f', colour: red}\n"
                        "  - {name: a, url: 'https://b/f'}\n")
    with pytest.raises(ConfigError) as e:
        load_sources(p)
    msg = str(e.value)
    assert "timezone" in msg and "Mars/Olympus" in msg
    assert "colour" in msg


def test_invalid_yaml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"line 2, column 8: invalid YAML"):
        load_sources(write(tmp_path, "beat: AI\nfeeds: : x\n"))
    with pytest.raises(ConfigError, match="file not found"):
        load_sources(tmp_path / "nope.yaml")


def test_settings_from_environment(monkeypatch, tmp_path):
    from newsroom.settings import Settings

    monkeypatch.setenv("NEWSROOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NEWSROOM_ALLOWED_HOSTS", "127.0.0.1, Example.org")
    s = Settings()
    assert s.resolved_warehouse_url == f"sqlite:///{tmp_path.resolve()}/warehouse.db"
    assert s.host_allowed("http://127.0.0.1:9/x") and not s.host_allowed("https://evil.test/")
    assert s.allow_private_networks is False


def test_subreddit_listings_one_or_several(tmp_path):
    src = load_sources(write(tmp_path, "reddit:\n  subreddits:\n    - {name: LocalLLaMA, listing: [hot, new]}\n"
                                       "    - {name: OpenAI, listing: top}\n    - {name: singularity}\n"))
    assert [s.listing for s in src.reddit.subreddits] == [("hot", "new"), ("top",), ("hot",)]


@pytest.mark.parametrize("value, needle", [
    ("[hot, hot]", "listing 'hot' is given twice"),
    ("[]", "at least one listing"),
    ("[hot, best]", "'best' is not a listing: use new, hot, top, rising"),
    ("controversial", "'controversial' is not a listing: use new, hot, top, rising (or a list of them)"),
])
def test_bad_listings_name_the_entry_and_field(tmp_path, value, needle):
    p = write(tmp_path, f"reddit:\n  subreddits:\n    - {{name: LocalLLaMA, listing: {value}}}\n")
    with pytest.raises(ConfigError) as e:
        load_sources(p)
    msg = str(e.value)
    assert "subreddits[0]" in msg and "listing" in msg and needle in msg


def test_one_subreddit_twice_points_at_the_listing_list(tmp_path):
    p = write(tmp_path, "reddit:\n  subreddits:\n    - {name: LocalLLaMA, listing: hot}\n"
                        "    - {name: localllama, listing: new}\n")
    with pytest.raises(ConfigError, match=r"listed twice.*listing: \[hot, new\]"):
        load_sources(p)
