"""What reading a page's metadata costs when a feed already gave title and date.

    .venv/bin/python benchmarks/page_metadata_cost.py [--repeat 3]

Since issue 13 the article path always reads the page's metadata (title, author,
site name, canonical URL; the htmldate search is still skipped when the feed
dated the entry): the site name names the outlet when no configured feed does,
and the metadata rule must not depend on which source reached the page first.
The baseline is the former shortcut (``page_metadata=False``) on the same
pages. CPU time of this process, single core, best of ``--repeat`` rounds, over
the extraction benchmark pages of the shared corpus.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

from newsroom.extract.article import extract_article  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    args = ap.parse_args()
    root = Path(args.corpus) / "extraction"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = [(truth[i]["url"], (root / "html" / f"{i}.html").read_bytes()) for i in sorted(truth)]
    best: dict[bool, float] = {}
    sitenames: dict[bool, int] = {}
    for _ in range(args.repeat):
        for metadata in (False, True):
            t0 = time.process_time()
            results = [extract_article(html, url, need_date=False, page_metadata=metadata) for url, html in pages]
            ms = 1000 * (time.process_time() - t0) / len(pages)
            best[metadata] = min(best.get(metadata, ms), ms)
            sitenames[metadata] = sum(1 for r in results if r.sitename)
    print(f"page metadata cost: {len(pages)} pages, best of {args.repeat}, CPU ms per article, 1 core\n")
    print("| extract_article(need_date=False, …)        | CPU ms/article | vs baseline | site name found")
    print("|---------------------------------------------|----------------|-------------|----------------")
    for metadata, label in ((False, "page_metadata=False [baseline, before]"), (True, "page_metadata=True (now)")):
        print(f"| {label:<43} | {best[metadata]:>14.1f} | {best[metadata] / best[False]:>10.2f}x | "
              f"{sitenames[metadata]}/{len(pages)}")


if __name__ == "__main__":
    main()
