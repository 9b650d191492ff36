"""Who is looking: the viewer scope every query function takes first.

Deny by default: a query called without a :class:`Viewer` raises :class:`NotPermitted`; a viewer sees a
unit's detail only when :meth:`Viewer.can_see_unit` says so, and writes only what its role allows
(``can_import``, ``can_edit_scenarios``, ``can_act_for``, ``is_admin``).

Who may open which page is :data:`PAGE_PERMISSIONS`: per page (its URL path) the one Viewer permission that
opens it, asked through :meth:`Viewer.may_open`. The menu (``dashboard.ui.shell``), the page's own guard, the
data layer's check (e.g. ``queries.health.require_health_viewer`` asks ``can_see_health``) and the texts naming
who may open a page (:func:`who_may_open`) all read it, so they cannot disagree. Roles:

- executive: every page but Import data and Users & audit, read-only;
- hub lead: overview, every spoke (and acting on their items), scenarios, routing rules, the operating-model
  cycle, data health and Import data;
- spoke lead: the overview (aggregates) and their own spoke; scenarios and the operating model read-only;
- admin: everything, plus users and the audit trail.

Who the viewer is comes from sign-in (see ``dashboard.ui.identity``); without sign-in configured the app
runs as the local admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    EXECUTIVE = "executive"
    HUB_LEAD = "hub_lead"
    SPOKE_LEAD = "spoke_lead"
    NONE = "none"  # signed in, but no role: sees nothing


class NotPermitted(PermissionError):
    """The viewer may not see what was asked for."""


@dataclass(frozen=True)
class Viewer:
    user: str
    role: Role
    unit: str | None = None  # the spoke a spoke lead belongs to

    def can_see_unit(self, unit_id: str) -> bool:
        if self.role in (Role.ADMIN, Role.EXECUTIVE, Role.HUB_LEAD):
            return True
        if self.role is Role.SPOKE_LEAD:
            return unit_id == self.unit
        return False

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.ADMIN, Role.EXECUTIVE, Role.HUB_LEAD)

    @property
    def has_access(self) -> bool:
        """Any role: the pages every role opens (a viewer with Role.NONE is signed in but sees nothing)."""
        return self.role is not Role.NONE

    @property
    def can_see_routing(self) -> bool:
        """Open the routing page and read rule sets (executives read-only, see ``can_edit_routing``)."""
        return self.role in (Role.ADMIN, Role.HUB_LEAD, Role.EXECUTIVE)

    @property
    def can_see_health(self) -> bool:
        """Open the data health page and read freshness, the import log, quarantine and the quality checks."""
        return self.role in (Role.ADMIN, Role.HUB_LEAD, Role.EXECUTIVE)

    @property
    def can_import(self) -> bool:
        """File uploads and the data pages' write side."""
        return self.role in (Role.ADMIN, Role.HUB_LEAD)

    @property
    def can_edit_scenarios(self) -> bool:
        """Save, overwrite, duplicate, delete scenarios (spoke leads and executives only look)."""
        return self.role in (Role.ADMIN, Role.HUB_LEAD)

    @property
    def can_edit_routing(self) -> bool:
        """Edit, replay and publish routing rule sets (executives look, spoke leads do not see them)."""
        return self.role in (Role.ADMIN, Role.HUB_LEAD)

    @property
    def can_edit_operating_model(self) -> bool:
        """Save assessments, promote a scenario to the target model, plan and complete changes."""
        return self.role in (Role.ADMIN, Role.HUB_LEAD)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def can_act_for(self, unit_id: str) -> bool:
        """Acknowledge / resolve / hand back a spoke's items: its spoke lead, hub leads, admins."""
        if self.role in (Role.ADMIN, Role.HUB_LEAD):
            return True
        return self.role is Role.SPOKE_LEAD and unit_id == self.unit

    def may_open(self, page: str) -> bool:
        """Whether this viewer's role opens ``page`` (a URL path of :data:`PAGE_PERMISSIONS`); an unknown page
        is closed (deny by default)."""
        permission = PAGE_PERMISSIONS.get(page)
        return permission is not None and bool(getattr(self, permission))


PAGE_PERMISSIONS = {  # page (its URL path) -> the Viewer permission that opens it: the one place this is said
    "overview": "has_access",
    "spoke": "has_access",  # which spokes: can_see_unit
    "scenarios": "has_access",  # saving: can_edit_scenarios
    "routing": "can_see_routing",  # editing and publishing: can_edit_routing
    "operating-model": "has_access",  # changing: can_edit_operating_model
    "data-health": "can_see_health",
    "upload": "can_import",
    "admin": "is_admin",
}


ROLE_LABELS = {Role.ADMIN: "Admin", Role.EXECUTIVE: "Executive", Role.HUB_LEAD: "Hub lead",
               Role.SPOKE_LEAD: "Spoke lead", Role.NONE: "No access"}
ROLE_PRECEDENCE = (Role.ADMIN, Role.HUB_LEAD, Role.EXECUTIVE, Role.SPOKE_LEAD)  # several claimed: the widest wins


def roles_that_may_open(page: str) -> tuple[Role, ...]:
    """The roles that open ``page``, widest first (permissions depend on the role alone, not on the spoke)."""
    return tuple(r for r in ROLE_PRECEDENCE if Viewer(user=r.value, role=r).may_open(page))


def who_may_open(page: str) -> str:
    """The people who open ``page``, for a refusal: 'admins', 'admins and hub leads', 'admins, hub leads and
    executives'."""
    names = [ROLE_LABELS[r].lower() + "s" for r in roles_that_may_open(page)]
    if not names:
        return "nobody"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def parse_role(value: object) -> Role:
    """A role from a claim or a users-table cell: 'hub_lead', 'Hub lead', ['spoke_lead', 'admin'] ...;
    unknown or missing -> Role.NONE (signed in, no access)."""
    values = value if isinstance(value, (list, tuple, set)) else [value]
    found = set()
    for v in values:
        text = str(v or "").strip().lower().replace(" ", "_").replace("-", "_")
        if text in {r.value for r in ROLE_PRECEDENCE}:
            found.add(Role(text))
    return next((r for r in ROLE_PRECEDENCE if r in found), Role.NONE)


def viewer_from_claims(claims: dict, *, user_claim: str = "email", role_claim: str = "role", unit_claim: str = "unit",
                       lookup=None) -> tuple[Viewer, str | None]:
    """Who a signed-in person is, from their ID-token claims, else from the users table (``lookup(user)``
    returns (role, unit) or None). Returns the viewer and, when they get no access, why (for the message)."""
    user = str(claims.get(user_claim) or claims.get("email") or claims.get("sub") or "").strip()
    if not user:
        return Viewer(user="unknown", role=Role.NONE), f"the sign-in did not say who you are (no {user_claim!r} claim)"
    role, unit = parse_role(claims.get(role_claim)), claims.get(unit_claim)
    if role is Role.NONE and lookup is not None:
        found = lookup(user)
        if found is not None:
            role, unit = parse_role(found[0]), found[1] or unit
    if role is Role.NONE:
        return Viewer(user=user, role=Role.NONE), "you have no role in this dashboard yet"
    if role is Role.SPOKE_LEAD and not unit:
        return Viewer(user=user, role=Role.NONE), "you are a spoke lead without a spoke"
    return Viewer(user=user, role=role, unit=str(unit) if unit else None), None


def require_viewer(viewer: object) -> Viewer:
    """Fail closed when a caller forgot to say who is looking."""
    if not isinstance(viewer, Viewer):
        raise NotPermitted("no viewer given: refusing to read data without knowing who is looking")
    if viewer.role is Role.NONE:
        raise NotPermitted(f"{viewer.user} has no role: ask an admin for access")
    return viewer


def require_unit(viewer: object, unit_id: str) -> Viewer:
    v = require_viewer(viewer)
    if not v.can_see_unit(unit_id):
        raise NotPermitted(f"{v.user} may not open {unit_id!r}")
    return v


def require(viewer: object, allowed: bool | str, what: str) -> Viewer:
    """``require(viewer, 'can_import', 'import data')``: the viewer, or NotPermitted naming what was refused."""
    v = require_viewer(viewer)
    ok = getattr(v, allowed) if isinstance(allowed, str) else allowed
    if not ok:
        raise NotPermitted(f"{v.user} ({ROLE_LABELS[v.role].lower()}) may not {what}")
    return v


LOCAL_ADMIN = Viewer(user="local admin", role=Role.ADMIN)
