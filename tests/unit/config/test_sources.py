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
@pytest.mark.parametrize("url,why", [
    ("http://", "empty host"),
    ("https://:8080/feed", "empty host"),
    ("http://exa mple.com/feed.xml", "spaces"),
    ("http://[zz]/feed", "invalid IPv6"),
    ("http:/example.com/feed", "http:// or https://"),
    ("example.com/feed.xml", "http:// or https://"),
])
def test_feed_urls_must_be_absolute_http_urls_with_a_host(tmp_path, url, why):
    p = write(tmp_path, f"feeds:\n  - {{name: verge, url: '{url}'}}\n")
    with pytest.raises(ConfigError) as e:
        load_sources(p)
    msg = str(e.value)
    assert f"{p}: feeds[0] 'verge' → url: Value error," in msg and why in msg


def test_valid_urls_are_kept_as_written(tmp_path):
    p = write(tmp_path, "feeds:\n  - {name: a, url: ' https://münchen.example/feed?x=1 '}\n"
                        "  - {name: b, url: 'http://127.0.0.1:8080/f.xml'}\n"
                        "reddit: {base_url: 'http://127.0.0.1:9'}\n")
    src = load_sources(p)
    assert [f.url for f in src.feeds] == ["https://münchen.example/feed?x=1", "http://127.0.0.1:8080/f.xml"]
    with pytest.raises(ConfigError, match=r"reddit → base_url: Value error, not a valid URL: empty host"):
        load_sources(write(tmp_path, "reddit: {base_url: 'https://'}\n"))


@pytest.mark.parametrize("body", ["", "\n# nothing but a comment\n", "{}\n", "[]\n"])
def test_an_empty_sources_file_is_an_error(tmp_path, body):
    p = write(tmp_path, body)
    with pytest.raises(ConfigError, match="the file is empty") as e:
        load_sources(p)
    assert str(p) in str(e.value)


def _check_config(tmp_path, sources: str, entities: str):
    import os
    import subprocess
    import sys

    (tmp_path / "s.yaml").write_text(sources)
    (tmp_path / "e.yaml").write_text(entities)
    env = {**os.environ, "NEWSROOM_SOURCES": str(tmp_path / "s.yaml"), "NEWSROOM_ENTITIES": str(tmp_path / "e.yaml")}
    return subprocess.run([sys.executable, "-m", "newsroom", "check-config"], env=env, capture_output=True,
                          text=True, timeout=120)


def test_check_config_exits_non_zero_on_empty_or_bad_files(tmp_path):
    good_s = "beat: AI\nfeeds:\n  - {name: a, url: 'https://a.example/feed'}\n"
    good_e = "entities:\n  - {id: acme, name: Acme, type: facility}\n"
    ok = _check_config(tmp_path, good_s, good_e)
    assert ok.returncode == 0, ok.stderr
    assert "1 feeds enabled" in ok.stdout and "1 entities" in ok.stdout
    for s, e, want in [("", good_e, "s.yaml: (top level): the file is empty"),
                       (good_s, "", "e.yaml: (top level): the file is empty"),
                       (good_s, "entities: []\n", "e.yaml: entities: no entities"),
                       ("feeds:\n  - {name: a, url: 'http://'}\n", good_e, "feeds[0] 'a' → url")]:
        res = _check_config(tmp_path, s, e)
        assert res.returncode == 2 and want in res.stderr, (res.returncode, res.stderr)
