"""Data health, for hub leads, admins and executives: is each table fresh, what did the file imports do,
which rows sit in quarantine and why (with a CSV to fix and re-import them), and simple quality checks."""

import datetime as dt

import streamlit as st

from dashboard.domain import format as fmt
from dashboard.settings import get_settings
from dashboard.ui import data, health_view
from dashboard.ui.identity import current_viewer
from dashboard.ui.shell import require_shell

require_shell()

settings = get_settings()
viewer = current_viewer()
st.title("Data health")
data.require_database()
health_view.require_permission(viewer)
st.caption(f"As of {fmt.moment(dt.datetime.now(settings.tz))} ({settings.timezone}) · "
           f"figures are cached for up to {settings.cache_ttl_seconds:g} s")

st.subheader("Freshness")
health_view.freshness_section(viewer)
st.subheader("Imports")
health_view.imports_section(viewer)
st.subheader("Quarantine")
health_view.quarantine_section(viewer)
st.subheader("Quality checks")
health_view.quality_section(viewer)
