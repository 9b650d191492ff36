"""Start the app: ``python -m dashboard.ui.serve [streamlit run options]`` (what ``make run`` uses).

Streamlit decides once per process whether a ``pages/`` folder beside the entry script means its legacy
file-based routing (``PagesManager.uses_pages_directory``), and only switches away after the first
``st.navigation`` call. Until then, the first request of a fresh server that deep-links to ``/spoke?unit=…``
gets a "Page not found" dialog before our navigation takes over. The app always routes with
``st.navigation``, so we say so before the server starts. (If a Streamlit upgrade drops the attribute, the
app still works: pages guard themselves, see ``dashboard.ui.shell``; the browser test of a fresh server's
first deep link then fails and says why.)
"""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

ENTRY = Path(__file__).resolve().parents[2] / "streamlit_app.py"


def main(argv: list[str]) -> int:
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(ENTRY), *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
