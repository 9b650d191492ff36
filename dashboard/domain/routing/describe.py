"""About a rule set: the rules that send items to a unit, and the readable changes from one version to the
next.
"""

from __future__ import annotations

from collections.abc import Mapping

from dashboard.domain.routing.rules import RuleSet


def rules_pointing_to(rule_set: RuleSet, unit_id: str) -> list[str]:
    """Names of the rules (enabled or not) that send items to ``unit_id``, plus "the default rule" if it does."""
    names = [r.name for r in rule_set.rules if r.target_unit == unit_id]
    if rule_set.default.target_unit == unit_id:
        names.append("the default rule")
    return names


def _describe_value(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "(any)"
    if value is None:
        return "(none)"
    return repr(value) if isinstance(value, str) else str(value)


_DIFF_FIELDS = ("name", "enabled", "kinds", "channels", "topics", "segments", "keywords", "pattern",
                "target_unit", "priority", "sla_hours")


def diff(old: RuleSet | None, new: RuleSet, names: Mapping[str, str] | None = None) -> list[str]:
    """Readable changes from ``old`` to ``new``: rules added, removed, moved in precedence, fields changed.

    ``old`` None (no active set yet) lists every rule of ``new`` as added. With ``names`` (unit id -> name) the
    lines are for people: units by name, the SLA in hours, arrows (``sends to Customer service``,
    ``SLA 12.0 h → 8.0 h``); without, ids and values as stored (``sends to 'customer_service'``).
    """
    old = old or RuleSet()
    arrow = "→" if names is not None else "->"

    def unit(u: str | None) -> str:
        if u is None:
            return "leave unrouted"
        return names.get(u, u) if names is not None else repr(u)

    def value(field: str, v: object) -> str:
        if field == "target_unit":
            return unit(v)  # type: ignore[arg-type]
        if field == "sla_hours" and names is not None:
            return "none" if v is None else f"{float(v):.1f} h"  # type: ignore[arg-type]
        return _describe_value(v)

    def label(field: str) -> str:
        return "SLA" if field == "sla_hours" and names is not None else field.replace("_", " ")

    before = {r.id: (i, r) for i, r in enumerate(old.rules)}
    after = {r.id: (i, r) for i, r in enumerate(new.rules)}
    lines: list[str] = []
    for rid, (i, r) in after.items():
        if rid not in before:
            lines.append(f"added rule {r.name!r} ({rid}) at position {i + 1}: sends to {unit(r.target_unit)}"
                         + ("" if r.enabled else " (disabled)"))
    for rid, (i, r) in before.items():
        if rid not in after:
            lines.append(f"removed rule {r.name!r} ({rid}), was at position {i + 1}")
    # moves: compare relative order of the rules present in both
    common_old = [r.id for r in old.rules if r.id in after]
    common_new = [r.id for r in new.rules if r.id in before]
    for rid in common_new:
        i_old, i_new = common_old.index(rid), common_new.index(rid)
        if i_old != i_new:
            lines.append(f"moved rule {after[rid][1].name!r} ({rid}) from position {before[rid][0] + 1} "
                         f"to {after[rid][0] + 1}")
    for rid, (_, r) in after.items():
        if rid not in before:
            continue
        o = before[rid][1]
        for field in _DIFF_FIELDS:
            a, b = getattr(o, field), getattr(r, field)
            if a != b:
                if field == "enabled":
                    lines.append(f"{'enabled' if b else 'disabled'} rule {r.name!r} ({rid})")
                else:
                    lines.append(f"rule {r.name!r} ({rid}): {label(field)} {value(field, a)} {arrow} {value(field, b)}")
    for field in ("target_unit", "priority", "sla_hours"):
        a, b = getattr(old.default, field), getattr(new.default, field)
        if a != b:
            if field == "target_unit":
                lines.append(f"the default rule: {unit(a)} {arrow} {unit(b)}")
            else:
                lines.append(f"the default rule: {label(field)} {value(field, a)} {arrow} {value(field, b)}")
    return lines
