"""Users & audit (admins): who has which role and spoke, the units (delete a spoke), and who did what when."""

import streamlit as st

from dashboard.domain.access import who_may_open
from dashboard.ui import admin_view, data
from dashboard.ui.identity import current_viewer
from dashboard.ui.shell import require_shell

require_shell()

viewer = current_viewer()
st.title("Users & audit")
if not viewer.may_open("admin"):
    st.error(f"Only {who_may_open('admin')} can manage users and read the audit trail.", icon=":material/block:")
    st.stop()
data.require_database()
units = data.units(viewer)
st.subheader("Users")
spokes = units[units.kind == "spoke"].sort_values("name")
admin_view.users_editor(viewer, dict(zip(spokes.id, spokes.name)))
st.subheader("Audit trail")
admin_view.audit_search(viewer)
st.subheader("Units")
admin_view.units_section(viewer)
