"""``python -m newsroom COMMAND``: operator commands that need no Airflow.

Run them with the project's interpreter from the project root, e.g.
``.venv/bin/python -m newsroom check-config`` (``make setup`` puts ``include/`` on its path).

    python -m newsroom migrate            # upgrade the warehouse to the newest schema
    python -m newsroom check-config       # validate the sources and entities files
    python -m newsroom export --day 2026-04-09 --format parquet --out exports
                                          # a day's consumer views as Parquet or CSV files
    python -m newsroom reprocess --since 2026-04-01 --until 2026-04-30 [--no-extract] [--no-dedup] [--no-tag]
                                          # re-extract / re-dedup / re-tag a range offline
"""

from __future__ import annotations

import argparse
import sys


def _cmd_migrate(args) -> int:
    from newsroom.warehouse import migrate_warehouse
    from newsroom.settings import get_settings

    url = args.url or get_settings().resolved_warehouse_url
    migrate_warehouse(url)
    print(f"warehouse migrated: {url.split('@')[-1]}")
    return 0


def _cmd_check_config(args) -> int:
    from newsroom.config import ConfigError, load_sources
    from newsroom.settings import get_settings

    s = get_settings()
    try:
        src = load_sources(s.sources)
        print(f"{s.sources}: {describe_sources(src)}")
        try:
            from newsroom.config.entities import load_entities
        except ImportError:
            return 0
        ents = load_entities(s.entities)
        print(f"{s.entities}: {len(ents.entities)} entities")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def describe_sources(src) -> str:
    """What check-config says about a sources file: only what runs counts as followed."""
    def part(total: int, active: int, noun: str, verb: str) -> str:
        off = total - active
        return f"{active} {noun} {verb}" + (f" ({off} disabled)" if off else "")

    subs = src.reddit.subreddits
    return (f"beat {src.beat!r}, {part(len(src.feeds), len(src.enabled_feeds()), 'feeds', 'enabled')}, "
            f"{part(len(subs), sum(1 for x in subs if x.enabled), 'subreddits', 'followed')}")


def _cmd_export(args) -> int:
    from datetime import date

    from newsroom.config import load_sources
    from newsroom.export import export_day
    from newsroom.settings import get_settings
    from newsroom.warehouse import migrate_warehouse

    s = get_settings()
    tz = args.timezone or load_sources(s.sources).timezone
    engine = migrate_warehouse(args.url or s.resolved_warehouse_url)
    res = export_day(engine, date.fromisoformat(args.day), args.out, fmt=args.format, tz=tz, beat=args.beat)
    for name, f in res.files.items():
        print(f"{f.rows:>7} rows  {f.path}")
    return 0


def _cmd_reprocess(args) -> int:
    import json
    from datetime import date

    from newsroom.pipeline.reprocess import reprocess_range
    from newsroom.settings import get_settings
    from newsroom.warehouse import migrate_warehouse

    s = get_settings()
    engine = migrate_warehouse(args.url or s.resolved_warehouse_url)
    counts = reprocess_range(engine, date.fromisoformat(args.since), date.fromisoformat(args.until), settings=s,
                             re_extract=not args.no_extract, re_dedup=not args.no_dedup, re_tag=not args.no_tag)
    print(json.dumps(counts, indent=2, sort_keys=True, default=str))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m newsroom", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("migrate", help="upgrade the warehouse schema")
    m.add_argument("--url", help="warehouse URL (default NEWSROOM_WAREHOUSE_URL)")
    m.set_defaults(func=_cmd_migrate)
    c = sub.add_parser("check-config", help="validate the sources and entities files")
    c.set_defaults(func=_cmd_check_config)
    e = sub.add_parser("export", help="write a day's consumer views as Parquet or CSV")
    e.add_argument("--day", required=True, help="local day YYYY-MM-DD (the sources file's timezone)")
    e.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    e.add_argument("--out", required=True, help="folder; files go to OUT/YYYY-MM-DD/")
    e.add_argument("--beat", help="only this beat's digest items (default all)")
    e.add_argument("--timezone", help="override the sources file's timezone")
    e.add_argument("--url", help="warehouse URL (default NEWSROOM_WAREHOUSE_URL)")
    e.set_defaults(func=_cmd_export)
    r = sub.add_parser("reprocess", help="re-extract, re-dedup and re-tag a range of local days, offline")
    r.add_argument("--since", required=True, help="first local day YYYY-MM-DD")
    r.add_argument("--until", required=True, help="last local day YYYY-MM-DD (included)")
    r.add_argument("--no-extract", action="store_true", help="keep the stored text")
    r.add_argument("--no-dedup", action="store_true", help="keep duplicates and stories")
    r.add_argument("--no-tag", action="store_true", help="keep entity tags")
    r.add_argument("--url", help="warehouse URL (default NEWSROOM_WAREHOUSE_URL)")
    r.set_defaults(func=_cmd_reprocess)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
