"""Import data (hub leads and admins): upload a CSV or Parquet file, check it, then import it.
Nothing is written before the check; bad rows are quarantined with reasons, good rows are never lost."""

import streamlit as st

from dashboard.domain import format as fmt
from dashboard.domain.access import who_may_open
from dashboard.ingest.errors import IngestError
from dashboard.ingest.preview import preview
from dashboard.services import imports
from dashboard.ui import cache, data
from dashboard.ui import upload_view as uv
from dashboard.ui.identity import current_viewer
from dashboard.ui.shell import require_shell
from dashboard.ui.text import md

require_shell()

viewer = current_viewer()
st.title("Import data")
if not viewer.may_open("upload"):
    st.error(f"Only {who_may_open('upload')} can import data. Ask one of them, or an admin for access.",
             icon=":material/block:")
    st.stop()
st.caption(uv.intro())
data.require_database()

uploaded = st.file_uploader("CSV or Parquet file", type=["csv", "txt", "tsv", "parquet", "pq"], key="upload_file")
if uploaded is None:
    st.info("Choose a file to see a preview. Nothing is written until you press Import.", icon=":material/upload_file:")
    st.stop()
path = uv.stored_upload(uploaded)
if path is None:
    st.error(f"{md(uploaded.name)}: the file is empty (0 bytes); nothing to import.", icon=":material/error:")
    st.stop()
try:
    first = preview(path, name=uploaded.name)
except IngestError as exc:
    st.error(md(uv.plain(exc)), icon=":material/error:")
    st.stop()

uv.file_facts(first)
kind = uv.pick_kind(first)
mapping = uv.mapping_step(first, kind)
checked = preview(path, name=uploaded.name, kind=kind, mapping=mapping)
st.dataframe(checked.rows, hide_index=False, width="stretch", height=260)
uv.contract_help(kind)
if checked.message:
    st.error(md(checked.message), icon=":material/error:")
    st.stop()

attempt = (path.name, kind, tuple(sorted(mapping.items())))
if st.button("Check file", icon=":material/fact_check:", type="secondary"):
    with st.spinner(f"Checking {md(uploaded.name)} …"):
        st.session_state["upload_check"] = (attempt, uv.run(viewer, path, uploaded.name, kind, mapping, dry_run=True))
done = st.session_state.get("upload_check")
if not done or done[0] != attempt or done[1] is None:
    st.stop()
report = done[1]
st.subheader("Check" if report.dry_run else "Imported")
uv.report_view(report)
if report.dry_run:
    rows = report.inserted + report.updated
    label = "Import again" if report.skipped else f"Import {fmt.count(rows)} row{'s' if rows != 1 else ''}"
    if st.button(label, type="primary", icon=":material/database_upload:"):
        with st.spinner(f"Importing {md(uploaded.name)} …"):
            result = uv.run(viewer, path, uploaded.name, kind, mapping, dry_run=False, force=report.skipped)
        cache.changed(imports.ingest)  # every page shows the new data, or the failed attempt, at once
        if result is not None:
            st.session_state["upload_check"] = (attempt, result)
            st.rerun()
else:
    st.success(md(uv.imported_text(report)), icon=":material/check_circle:")
