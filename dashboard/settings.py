"""One place for configuration: environment variables with the ``DASHBOARD_`` prefix or a ``.env`` file.

Invalid settings fail at start-up with one line naming the bad variable (see :func:`load_settings`).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = ROOT / "data" / "hubspoke.db"
# how old the newest row of a table may be before the data-health page calls it stale (hours)
DEFAULT_FRESHNESS_HOURS = {"work_items": 2.0, "kpi_observations": 26.0, "campaigns": 24.0 * 8}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DASHBOARD_",
        env_file=ROOT / ".env",  # beside the repository, like the SQLite default, whatever the working directory
        env_ignore_empty=True,
        extra="ignore",
    )

    environment: Literal["development", "production"] = Field(
        "development", description="production refuses unsafe defaults"
    )
    database_url: str = Field(
        f"sqlite:///{DEFAULT_SQLITE}",
        description="SQLAlchemy URL; sqlite:///path or postgresql+psycopg://user@host/db",
    )
    pool_size: int = Field(5, ge=1, le=200, description="connections kept per app process (PostgreSQL)")
    refresh_seconds: float = Field(10.0, ge=1, le=3600, description="live overview refresh interval")
    cache_ttl_seconds: float = Field(5.0, ge=0, le=3600, description="how long query results are cached")
    # the other lifetimes of the UI's cache (dashboard.ui.cache.LIFETIMES); a write refreshes what it changes at once
    cache_slow_seconds: float = Field(
        60.0, ge=0, le=86400, description="cached lists that change rarely (inbox filter choices, demo marker)")
    cache_checks_seconds: float = Field(
        300.0, ge=0, le=86400, description="cached data-quality checks (they scan every work item)")
    cache_calibration_seconds: float = Field(
        600.0, ge=0, le=86400, description="cached as-is calibration of the what-if model")
    cache_figure_seconds: float = Field(
        600.0, ge=0, le=86400, description="cached chart figures, keyed by the data they draw (bounds memory only)")
    sla_green: float = Field(0.90, gt=0, le=1, description="SLA share at or above which an edge is green")
    sla_amber: float = Field(0.75, gt=0, le=1, description="SLA share at or above which an edge is amber")
    kpi_green: float = Field(0.75, gt=0, le=1, description="share of KPIs on target for a green unit")
    kpi_amber: float = Field(0.50, gt=0, le=1, description="share of KPIs on target for an amber unit")
    timezone: str = Field("UTC", description="IANA zone the viewer sees times in, e.g. Europe/Berlin")
    default_unit: str | None = Field(None, description="spoke shown when /spoke has no ?unit=")
    local_mode: bool | None = Field(
        None, description="without sign-in configured, run as one local admin (default: on in development only)"
    )
    auth_provider: str | None = Field(None, description="named provider in secrets.toml [auth.<name>] (default: [auth])")
    auth_user_claim: str = Field("email", description="ID-token claim that names the user")
    auth_role_claim: str = Field("role", description="ID-token claim with the role (a string or a list)")
    auth_unit_claim: str = Field("unit", description="ID-token claim with a spoke lead's spoke")
    import_timezone: str | None = Field(
        None, description="IANA zone naive timestamps in imported files are taken to be in (default: TIMEZONE)"
    )
    freshness_hours: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_FRESHNESS_HOURS),
        description='expected cadence per table as JSON, e.g. {"work_items": 2}: older newest rows are stale',
    )

    @field_validator("timezone", "import_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_url(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return value

    @model_validator(mode="after")
    def _ordered_thresholds(self) -> Settings:
        if self.sla_amber > self.sla_green:
            raise ValueError("DASHBOARD_SLA_AMBER must not exceed DASHBOARD_SLA_GREEN")
        if self.kpi_amber > self.kpi_green:
            raise ValueError("DASHBOARD_KPI_AMBER must not exceed DASHBOARD_KPI_GREEN")
        return self

    @model_validator(mode="after")
    def _safe_in_production(self) -> Settings:
        if self.environment == "production" and self.local_mode:
            raise ValueError("DASHBOARD_LOCAL_MODE must be off in production: every visitor would be the local admin")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @field_validator("freshness_hours")
    @classmethod
    def _positive_cadence(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in value.items() if not v > 0]
        if bad:
            raise ValueError(f"hours must be positive (check {', '.join(bad)})")
        return {**DEFAULT_FRESHNESS_HOURS, **value}

    @property
    def import_tz(self) -> ZoneInfo:
        """The zone naive timestamps in imported files are read in."""
        return ZoneInfo(self.import_timezone or self.timezone)

    @property
    def local_mode_allowed(self) -> bool:
        """Whether the app may run as the local admin when no sign-in is configured (never silently in production)."""
        return self.local_mode if self.local_mode is not None else self.environment == "development"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class SettingsError(RuntimeError):
    """Raised with a one-line, human message naming the bad variable."""


def describe_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p]
        name = "DASHBOARD_" + loc[0].upper() if loc else "settings"
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        parts.append(f"{name}: {msg}" if loc else msg)
    return "Invalid setting: " + "; ".join(parts)


def load_settings(**overrides) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_error(exc)) from None


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached). Tests call ``get_settings.cache_clear()`` after changing env."""
    return load_settings()


# Streamlit options production must keep as .streamlit/config.toml sets them: (option, required value, why)
SAFE_STREAMLIT_OPTIONS = (
    ("server.enableXsrfProtection", True, "forms and uploads would accept requests forged by other sites"),
    ("client.showErrorDetails", "none", "an error would show a traceback with file paths to any visitor"),
)
MIN_COOKIE_SECRET = 32  # characters; st.login signs the session cookie with it
_PLACEHOLDERS = ("change", "secret", "example", "placeholder", "xxx", "todo", "replace")


def production_problems(settings: Settings, options: dict[str, object], auth: dict | None) -> list[str]:
    """Why this server must not start in production, one line per unsafe setting (empty: safe or not production).

    ``options`` are Streamlit's effective config options (``streamlit.config.get_option``), ``auth`` the
    ``[auth]`` section of secrets.toml (None when there is none)."""
    if settings.environment != "production":
        return []
    problems = []
    if settings.local_mode:
        problems.append("DASHBOARD_LOCAL_MODE: must be off in production (every visitor would be the local admin)")
    for name, wanted, why in SAFE_STREAMLIT_OPTIONS:
        value = options.get(name)
        if isinstance(wanted, bool):
            unsafe = value is not True
        else:
            unsafe = str(value).lower() != str(wanted)
        if unsafe:
            problems.append(f"{name}: must be {str(wanted).lower()} in production, not {value!r} ({why})")
    if not auth:
        problems.append("[auth] in .streamlit/secrets.toml: sign-in must be configured in production")
    else:
        secret = str(auth.get("cookie_secret") or "")
        if len(secret) < MIN_COOKIE_SECRET or any(p in secret.lower() for p in _PLACEHOLDERS):
            problems.append(f"[auth] cookie_secret: must be a random value of at least {MIN_COOKIE_SECRET} "
                            "characters in production (missing, short or a placeholder)")
    return problems
