"""Command line of the what-if model for analysts: ``python -m dashboard.whatif {as-is,scenario,simulate}``.

- ``as-is [--days N] [--json]``: the as-is calibrated from the database's last N days (default 30) of work items:
  per spoke the model's median and mean lead time, share within SLA, FTE and yearly cost beside what was
  observed, per function the same, the office hours used and every assumption made.
- ``scenario FILE.json [--json]``: evaluate saved inputs (what ``dashboard.whatif.inputs.dump_inputs`` writes,
  any version) or one of the presets of the as-is (``--preset centralised``).
- ``simulate [FILE.json | --preset NAME] [--days N] [--seed S] [--json]``: run the discrete-event simulation of
  the same inputs and print it beside the analytic model, per spoke.

The database comes from the settings (``DASHBOARD_DATABASE_URL``) or ``--database-url``. Errors a user can fix
end with one ``error: ...`` line and exit code 2 (configuration, connection, unreadable file) or 1 (the data
cannot support a model).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from dashboard import errors
from loaders.__main__ import EXIT_REFUSED, CliError, guarded, open_engine, settings_from_args

PRESET_NAMES = ("as_is", "centralised", "decentralised", "hybrid")


def _number(value: Any, digits: int = 4) -> Any:
    if isinstance(value, float):
        return round(value, digits) if math.isfinite(value) else None
    return value


def _operator():
    import getpass

    from dashboard.domain.access import Role, Viewer

    return Viewer(user=f"{getpass.getuser()} (command line)", role=Role.ADMIN)


def _as_is(args: argparse.Namespace):
    """The calibrated as-is from the database (CalibrationResult)."""
    from dashboard.queries.observed import calibrated_as_is
    from dashboard.whatif.calibration import CalibrationError

    settings = settings_from_args(args)
    engine = open_engine(settings)
    try:
        with engine.connect() as conn:
            return calibrated_as_is(conn, _operator(), days=args.days, default_timezone=settings.timezone)
    except CalibrationError as exc:
        raise CliError(f"cannot calibrate the as-is: {exc}", EXIT_REFUSED) from None
    except errors.DATABASE_ERRORS as exc:
        raise CliError(errors.explain(exc, url=settings.database_url, lead="cannot read", code=False)) from None
    finally:
        engine.dispose()


def _inputs(args: argparse.Namespace):
    """Inputs from FILE.json, or a preset of the as-is; with the calibration when it was needed."""
    from dashboard.whatif.inputs import InputError, load_inputs
    from dashboard.whatif.model import presets

    if getattr(args, "file", None):
        path = Path(args.file)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise CliError(f"{path} is not JSON: {exc}") from None
        if isinstance(data, dict) and "inputs" in data and isinstance(data["inputs"], dict):
            data = {**data["inputs"], **({"inputs_version": data["inputs_version"]} if "inputs_version" in data else {})}
        try:
            return load_inputs(data), None
        except InputError as exc:
            raise CliError(f"{path} holds inputs the model cannot use: {exc}") from None
    calibration = _as_is(args)
    return presets(calibration.inputs)[args.preset], calibration


def _spoke_rows(result, observed=None) -> list[dict[str, Any]]:
    rows = []
    for spoke, row in result.spokes.iterrows():
        entry = {"unit_id": spoke, "name": row["name"], "median_lead_time_h": _number(row["lead_time_median_h"]),
                 "mean_lead_time_h": _number(row["lead_time_mean_h"]), "sla_share": _number(row["sla_met_share"]),
                 "fte": _number(row["local_fte"]), "cost": _number(row["total_cost"], 0),
                 "items_per_month": _number(row["items_per_month"], 1),
                 "unanswered_per_month": _number(row["unanswered_per_month"], 1)}
        if observed is not None and spoke in observed.index:
            o = observed.loc[spoke]
            entry["observed"] = {"items_resolved": int(o["items_resolved"]),
                                 "median_lead_time_h": _number(o["observed_median_h"]),
                                 "mean_lead_time_h": _number(o["observed_mean_h"]),
                                 "sla_share": _number(o["observed_sla_share"])}
        rows.append(entry)
    return rows


def _function_rows(result) -> list[dict[str, Any]]:
    return [{"function": f, "label": row["label"], "central_share": _number(row["central_share"]),
             "items_per_month": _number(row["items_per_month"], 1), "fte": _number(row["fte"]),
             "hub_fte": _number(row["hub_fte"]), "spoke_fte": _number(row["spoke_fte"]),
             "cost": _number(row["total_cost"], 0), "median_lead_time_h": _number(row["lead_time_median_h"]),
             "mean_lead_time_h": _number(row["lead_time_mean_h"]), "sla_share": _number(row["sla_met_share"]),
             "unanswered_per_month": _number(row["unanswered_per_month"], 1)}
            for f, row in result.functions.iterrows()]


def _totals(result) -> dict[str, Any]:
    return {k: _number(v) for k, v in result.totals.as_dict().items()}


def cmd_as_is(args: argparse.Namespace) -> int:
    from dashboard.whatif.model import evaluate

    calibration = _as_is(args)
    result = evaluate(calibration.inputs)
    payload = {
        "window_days": _number(calibration.window_days), "start": calibration.start.isoformat(),
        "end": calibration.end.isoformat(), "central_share_mean": _number(result.totals.central_share_mean),
        "spokes": _spoke_rows(result, calibration.fit), "functions": _function_rows(result),
        "totals": _totals(result),
        "max_error_vs_observed": _number(calibration.max_error),
        "max_sla_points_vs_observed": _number(calibration.max_sla_points),
        "calendars": [{"unit_id": u, **{k: _number(v) for k, v in row.items()}}
                      for u, row in calibration.calendars.to_dict(orient="index").items()],
        "missing_functions": list(calibration.missing_functions), "flags": list(calibration.flags),
    }
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    print(f"As-is calibrated from {calibration.window_days:.1f} days of work items "
          f"({calibration.start:%Y-%m-%d %H:%M} to {calibration.end:%Y-%m-%d %H:%M} UTC)")
    print(f"Central share {result.totals.central_share_mean:.1%} of items worked in the hub; "
          f"{result.totals.fte:,.1f} FTE; €{result.totals.total_cost:,.0f} a year")
    print(f"{'spoke':<20} {'median h (obs)':>16} {'mean h (obs)':>16} {'in SLA (obs)':>16} {'FTE':>7} {'cost/year':>12}")
    for row in payload["spokes"]:
        o = row.get("observed", {})
        print(f"{row['name'][:20]:<20} {_pair(row['median_lead_time_h'], o.get('median_lead_time_h')):>16} "
              f"{_pair(row['mean_lead_time_h'], o.get('mean_lead_time_h')):>16} "
              f"{_pair(row['sla_share'], o.get('sla_share'), percent=True):>16} {row['fte']:>7.1f} "
              f"{'€' + format(row['cost'], ',.0f'):>12}")
    print(f"Largest difference from observed: {calibration.max_error:.1%} (lead time), "
          f"{calibration.max_sla_points:.1f} points (SLA)")
    for flag in calibration.flags:
        print(f"- {flag}")
    return 0


def _pair(model: float | None, observed: float | None, percent: bool = False) -> str:
    def f(x: float | None) -> str:
        if x is None:
            return "–"
        return f"{x:.0%}" if percent else f"{x:.1f}"
    return f"{f(model)} ({f(observed)})"


def cmd_scenario(args: argparse.Namespace) -> int:
    from dashboard.whatif.model import evaluate

    inputs, _calibration = _inputs(args)
    result = evaluate(inputs)
    payload = {"totals": _totals(result), "spokes": _spoke_rows(result), "functions": _function_rows(result),
               "flags": list(result.flags)}
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    t = result.totals
    print(f"{t.fte:,.1f} FTE, €{t.total_cost:,.0f} a year; median lead time {t.lead_time_median_h:.1f} h, "
          f"mean {t.lead_time_mean_h:.1f} h; {t.sla_met_share:.1%} within SLA; "
          f"{t.handoffs_per_month:,.0f} handoffs a month")
    for row in payload["spokes"]:
        print(f"- {row['name']}: median {row['median_lead_time_h']} h, mean {row['mean_lead_time_h']} h, "
              f"{row['sla_share']:.1%} within SLA, {row['fte']:.1f} FTE, €{row['cost']:,.0f}")
    for flag in result.flags:
        print(f"! {flag}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from dashboard.whatif.simulation import compare, max_difference, simulate

    inputs, _calibration = _inputs(args)
    done = [-1]

    def progress(share: float) -> None:
        step = int(share * 10)
        if not args.json and step != done[0]:
            done[0] = step
            print(f"\rsimulating … {share:.0%}", end="", file=sys.stderr, flush=True)

    sim = simulate(inputs, days=args.days, seed=args.seed, progress=progress)
    if not args.json:
        print(file=sys.stderr)
    table = compare(inputs, sim)
    worst, worst_sla = max_difference(table)
    payload = {"days": args.days, "seed": args.seed, "seconds": _number(sim.seconds, 2), "items": int(len(sim.items)),
               "max_lead_time_difference": _number(worst), "max_sla_difference_pts": _number(worst_sla),
               "spokes": [{"unit_id": s, **{k: _number(v) for k, v in row.items()}}
                          for s, row in table.to_dict(orient="index").items()]}
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    print(f"Simulated {args.days:g} days ({len(sim.items):,} items) in {sim.seconds:.1f} s; largest difference from "
          f"the analytic model {worst:.1%} (lead time), {worst_sla:.1f} points (SLA)")
    print(f"{'spoke':<20} {'median h sim/model':>20} {'mean h sim/model':>20} {'in SLA sim/model':>20}")
    for _spoke, r in table.iterrows():
        print(f"{str(r['name'])[:20]:<20} {r['simulated_median_h']:>9.1f} / {r['model_median_h']:<8.1f} "
              f"{r['simulated_mean_h']:>9.1f} / {r['model_mean_h']:<8.1f} "
              f"{r['simulated_sla_share']:>9.1%} / {r['model_sla_share']:<8.1%}")
    return 0


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError("must be > 0")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", default=argparse.SUPPRESS,
                        help="database to read (default: DASHBOARD_DATABASE_URL or the SQLite file)")
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    common.add_argument("--days", type=_positive(float), default=30.0,
                        help="days of work items to calibrate from, or to simulate (default %(default)s)")
    parser = argparse.ArgumentParser(prog="python -m dashboard.whatif", parents=[common],
                                     description="The what-if model from the command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("as-is", parents=[common], help="the as-is calibrated from the database, beside what was observed")
    a.set_defaults(handler=cmd_as_is)
    s = sub.add_parser("scenario", parents=[common], help="evaluate saved inputs (FILE.json) or a preset of the as-is")
    s.add_argument("file", nargs="?", help="inputs as JSON (dump_inputs, or a saved scenario with an 'inputs' key)")
    s.add_argument("--preset", choices=PRESET_NAMES, default="as_is", help="without FILE: which preset of the as-is")
    s.set_defaults(handler=cmd_scenario)
    m = sub.add_parser("simulate", parents=[common], help="discrete-event simulation beside the analytic model")
    m.add_argument("file", nargs="?", help="inputs as JSON; without it, a preset of the as-is")
    m.add_argument("--preset", choices=PRESET_NAMES, default="as_is", help="without FILE: which preset of the as-is")
    m.add_argument("--seed", type=int, default=1, help="random seed (default %(default)s)")
    m.set_defaults(handler=cmd_simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(lambda: args.handler(args))
