"""``python -m newsroom COMMAND``: operator commands that need no Airflow.

    python -m newsroom migrate            # upgrade the warehouse to the newest schema
    python -m newsroom check-config       # validate the sources and entities files
"""

from __future__ import annotations

import argparse
import sys


def _cmd_migrate(args) -> int:
    from newsroom.warehouse import open_warehouse
    from newsroom.settings import get_settings

    url = args.url or get_settings().resolved_warehouse_url
    open_warehouse(url)
    print(f"warehouse migrated: {url.split('@')[-1]}")
    return 0


def _cmd_check_config(args) -> int:
    from newsroom.config import ConfigError, load_sources
    from newsroom.settings import get_settings

    s = get_settings()
    try:
        src = load_sources(s.sources)
        print(f"{s.sources}: beat {src.beat!r}, {len(src.enabled_feeds())} enabled feeds, "
              f"{len(src.reddit.subreddits)} subreddits")
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m newsroom", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("migrate", help="upgrade the warehouse schema")
    m.add_argument("--url", help="warehouse URL (default NEWSROOM_WAREHOUSE_URL)")
    m.set_defaults(func=_cmd_migrate)
    c = sub.add_parser("check-config", help="validate the sources and entities files")
    c.set_defaults(func=_cmd_check_config)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
