import gzip

import pytest

from newsroom.captures import CaptureStore


@pytest.mark.parametrize("root", ["local", "memory://newsroom-test"])
def test_put_get_round_trip_is_content_addressed(tmp_path, root):
    store = CaptureStore(tmp_path / "data" if root == "local" else root)
    body = b"<html>" + "é".encode() * 1000 + b"</html>"
    ref = store.put(body, kind="page")
    again = store.put(body, kind="page")
    assert ref == again and ref.bytes == len(body) and ref.path.startswith("page/")
    assert store.get(ref.path) == body
    other = store.put(b"other", kind="feed")
    assert other.path != ref.path and store.get(other.path) == b"other"


def test_local_files_are_gzip_and_paths_cannot_escape(tmp_path):
    store = CaptureStore(tmp_path)
    ref = store.put(b"x" * 10000, kind="page")
    raw = (tmp_path / "captures" / ref.path).read_bytes()
    assert len(raw) < 200 and gzip.decompress(raw) == b"x" * 10000
    with pytest.raises(ValueError):
        store.get("../../etc/passwd")
