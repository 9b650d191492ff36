"""Command line: ``python -m loaders {init,demo,simulate,ingest}``.

The database URL comes from the settings (``DASHBOARD_DATABASE_URL`` or ``.env``); ``--database-url``
overrides it. Problems a user can fix (bad settings, a bad or unreachable database, a refused demo) end
with one ``error: ...`` line on stderr and no traceback: exit code 2 for configuration and connection
problems, 1 for a refused operation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from dashboard import errors
from dashboard.db import make_engine, migrate, ping, schema_ready
from dashboard.settings import Settings, SettingsError, get_settings, load_settings

# loaders.demo / loaders.simulate (numpy, pandas) are imported by the commands that need them, so `init`
# and every error path start fast.
KINDS = ("work_items", "kpi_observations", "kpis", "units", "campaigns", "journeys")  # dashboard.ingest.contract.KINDS (not imported: start fast)
DEFAULT_SEED = 7
DEFAULT_WORK_ITEMS = 150_000
DEFAULT_KPI_OBSERVATIONS = 60_000
DEFAULT_DAYS = 90

EXIT_REFUSED = 1
EXIT_CONFIG = 2


class CliError(Exception):
    """A one-line message for the user and the exit code to end with."""

    def __init__(self, message: str, code: int = EXIT_CONFIG) -> None:
        super().__init__(message)
        self.code = code


safe_url = errors.safe_url  # the URL without its password, for messages


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:200]


# --- commands -------------------------------------------------------------------------------------------


def _revision(engine: Engine) -> str | None:
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def cmd_init(args: argparse.Namespace, engine: Engine, settings: Settings) -> int:
    ping(engine)
    before = _revision(engine) if schema_ready(engine) else None
    migrate(engine)
    after = _revision(engine)
    where = safe_url(settings.database_url)
    if before is None:
        print(f"init: created the schema (revision {after}) on {where}")
    elif before != after:
        print(f"init: upgraded the schema from {before} to {after} on {where}")
    else:
        print(f"init: schema already up to date (revision {after}) on {where}")
    return 0


def _require_schema(engine: Engine, settings: Settings) -> None:
    ping(engine)
    if not schema_ready(engine):
        raise CliError(f"the database at {safe_url(settings.database_url)} has no tables yet: "
                       "run `python -m loaders init` first")


def cmd_demo(args: argparse.Namespace, engine: Engine, settings: Settings) -> int:
    from loaders import demo

    _require_schema(engine, settings)
    try:
        summary = demo.load_demo(engine, seed=args.seed, now=args.now, work_items=args.work_items,
                                 kpi_observations=args.kpi_observations, days=args.days, force=args.force)
    except demo.DemoRefused as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    print(summary.line())
    return 0


def cmd_simulate(args: argparse.Namespace, engine: Engine, settings: Settings) -> int:
    from loaders import simulate

    _require_schema(engine, settings)
    try:
        simulate.run(engine, rate_per_min=args.rate, duration=args.duration, seed=args.seed, tick=args.tick,
                     report_every=args.report_every, force=args.force, out=lambda line: print(line, flush=True))
    except simulate.NothingToSimulate as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    return 0


def _mapping(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        file_col, sep, contract_col = pair.partition("=")
        if not sep or not file_col.strip() or not contract_col.strip():
            raise CliError(f"--map {pair!r}: use 'file column=contract column', e.g. --map 'Ticket ID=id'")
        out[file_col.strip()] = contract_col.strip()
    return out


def cmd_ingest(args: argparse.Namespace, engine: Engine, settings: Settings) -> int:
    from loaders.ingest import import_files

    _require_schema(engine, settings)
    return import_files(engine, args.paths, kind=args.kind, mapping=_mapping(args.map), source=args.source,
                        dry_run=args.dry_run, force=args.force, tz=settings.import_tz, encoding=args.encoding,
                        delimiter=args.delimiter, show=args.show, allow_quarantine=args.allow_quarantine)


# --- parsing --------------------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def _aware_time(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("use an ISO timestamp such as 2026-11-23T10:00:00+00:00") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", default=argparse.SUPPRESS,
                        help="SQLAlchemy URL (default: DASHBOARD_DATABASE_URL or the settings' SQLite file)")
    parser = argparse.ArgumentParser(prog="python -m loaders", parents=[common],
                                     description="Create the schema, load the demo organisation, feed live data.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{init,demo,simulate,ingest}")

    init = sub.add_parser("init", parents=[common], help="create or upgrade the database schema")
    init.set_defaults(handler=cmd_init)

    d = sub.add_parser("demo", parents=[common], help="(re)build the demo organisation, anchored at now")
    d.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    d.add_argument("--work-items", type=_positive_int, default=DEFAULT_WORK_ITEMS,
                   help="work items to generate (default %(default)s)")
    d.add_argument("--kpi-observations", type=_positive_int, default=DEFAULT_KPI_OBSERVATIONS,
                   help="KPI observations, at most (default %(default)s)")
    d.add_argument("--days", type=int, default=DEFAULT_DAYS, help="history length in days (default %(default)s)")
    d.add_argument("--now", type=_aware_time, default=None, help="anchor time instead of now (reproducible demos)")
    d.add_argument("--force", action="store_true", help="replace data that is not the demo")
    d.set_defaults(handler=cmd_demo)

    s = sub.add_parser("simulate", parents=[common], help="append live work items and KPI observations")
    s.add_argument("--rate", type=float, default=120.0, help="new work items per minute (default %(default)s)")
    s.add_argument("--duration", type=_positive_float, default=None, help="stop after this many seconds")
    s.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    s.add_argument("--tick", type=_positive_float, default=1.0, help="seconds between batches (default %(default)s)")
    s.add_argument("--report-every", type=_positive_int, default=10, help="print a line every N batches")
    s.add_argument("--force", action="store_true", help="simulate into a database that does not hold the demo")
    s.set_defaults(handler=cmd_simulate)

    i = sub.add_parser("ingest", parents=[common], help="import CSV or Parquet files (validated, idempotent)",
                       description="Import files of your own data. Valid rows are upserted by their natural key; "
                                   "invalid rows go to the quarantine table with reasons. Exit code 1 when any row "
                                   "was quarantined (unless --allow-quarantine), 2 when a file could not be imported "
                                   "at all.")
    i.add_argument("paths", nargs="+", metavar="PATH", help="CSV or Parquet file(s)")
    i.add_argument("--kind", choices=KINDS, default=None, help="what the file holds (default: inferred from the header)")
    i.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
    i.add_argument("--force", action="store_true", help="import a file even if the same bytes were imported before")
    i.add_argument("--allow-quarantine", action="store_true", help="exit 0 even when rows were quarantined")
    i.add_argument("--map", action="append", metavar="'FILE COLUMN=CONTRACT COLUMN'",
                   help="map a file column to a contract column (repeatable)")
    i.add_argument("--source", default=None, help="name of the system the file came from (default: the file name)")
    i.add_argument("--encoding", default=None, help="text encoding (default: detected — UTF-8, UTF-16 or UTF-32 with "
                   "or without a byte-order mark, else Windows-1252)")
    i.add_argument("--delimiter", default=None, help="CSV delimiter (default: detected from the header)")
    i.add_argument("--show", type=_positive_int, default=20, help="quarantined rows to print (default %(default)s)")
    i.set_defaults(handler=cmd_ingest)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    url = getattr(args, "database_url", None)
    return load_settings(database_url=url) if url else get_settings()


def open_engine(settings: Settings) -> Engine:
    try:
        return make_engine(settings.database_url, pool_size=settings.pool_size)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise CliError(f"bad database URL {safe_url(settings.database_url)!r}: {_first_line(exc)}") from None
    except OSError as exc:  # the SQLite file's folder cannot be created
        raise CliError(f"cannot create the database at {safe_url(settings.database_url)}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    handler: Callable[[argparse.Namespace, Engine, Settings], int] = args.handler
    settings = settings_from_args(args)
    engine = open_engine(settings)
    try:
        return handler(args, engine, settings)
    except errors.DATABASE_ERRORS as exc:  # unreachable, disk full, read-only ...: one sentence, see dashboard.errors
        raise CliError(errors.explain(exc, url=settings.database_url, lead="cannot use", code=False,
                                      kept="The step that failed was rolled back.")) from None
    finally:
        engine.dispose()


def guarded(command: Callable[[], int]) -> int:
    """Run a command; problems a user can fix end with one ``error: ...`` line and their exit code."""
    try:
        return command()
    except SettingsError as exc:
        message, code = str(exc), EXIT_CONFIG
    except CliError as exc:
        message, code = str(exc), exc.code
    except KeyboardInterrupt:
        return 130
    print(f"error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
