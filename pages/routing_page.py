"""(being built for issue 9)"""

import streamlit as st

from dashboard.ui.shell import require_shell

require_shell()
st.title("Routing")
