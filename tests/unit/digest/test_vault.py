import os

import pytest

from newsroom.digest.vault import MAX_NAME_BYTES, Vault, VaultError, safe_name


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Muse Spark", "Muse Spark"),
        ("../../etc/passwd", "-..-etc-passwd"),  # no separator left: harmless
        ("a/b\\c", "a-b-c"),
        ('x*"<>:|?#^[]y', "x-y"),
        ("..", "untitled"),
        ("   ", "untitled"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("evil\u202eexe.md", "evilexe.md"),
        ("nul\x00byte\x07", "nulbyte"),
        ("line\nbreak\ttab", "line break tab"),
        (".hidden", "hidden"),
    ],
)
def test_safe_name(raw, expected):
    assert safe_name(raw) == expected


def test_safe_name_caps_utf8_bytes_without_splitting_characters():
    name = safe_name("é" * 1000)
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert set(name) == {"é"}


def test_notes_never_leave_the_vault(tmp_path):
    v = Vault(tmp_path / "vault")
    v.ensure_writable()
    for folder, name in [("..", "x"), ("entities", "../../../escape"), ("/etc", "passwd"), (None, "/tmp/abs")]:
        p = v.write_note(folder, name, "hi\n")
        assert p.is_relative_to((tmp_path / "vault").resolve())
    assert not (tmp_path / "escape.md").exists()


def test_write_is_atomic_and_failure_keeps_previous_note(tmp_path, monkeypatch):
    v = Vault(tmp_path)
    p = v.write_note("entities", "Meta", "version 1\n")
    assert p.read_text() == "version 1\n"

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(VaultError, match="No space left"):
        v.write_note("entities", "Meta", "version 2\n")
    monkeypatch.undo()
    assert p.read_text() == "version 1\n"
    assert [f.name for f in p.parent.iterdir()] == ["Meta.md"]  # no temp file left behind


def test_unchanged_note_is_not_rewritten(tmp_path):
    v = Vault(tmp_path)
    p = v.write_note(None, "MOC - Labs", "same\n")
    os.utime(p, (1, 1))
    v.write_note(None, "MOC - Labs", "same\n")
    assert p.stat().st_mtime == 1
    v.write_note(None, "MOC - Labs", "changed\n")
    assert p.stat().st_mtime != 1


def test_unwritable_output_dir_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    with pytest.raises(VaultError, match="is not writable.*NEWSROOM_OUTPUT_DIR"):
        Vault(blocker / "vault").ensure_writable()
