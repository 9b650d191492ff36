"""Who is looking: the viewer scope every query function takes first.

Deny by default: a query called without a :class:`Viewer` raises :class:`NotPermitted`; a viewer sees a
unit's detail only when :meth:`Viewer.can_see_unit` says so. Roles and sign-in arrive with the
access-control issue; today the app runs as the local admin (see ``dashboard.ui.identity``).
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


LOCAL_ADMIN = Viewer(user="local admin", role=Role.ADMIN)
