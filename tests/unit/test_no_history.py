"""Code, docstrings, comments and docs say what is true now; git keeps the history. No line cites an issue
("(issue 12)", "issue #12", "issue-12") or tells what came "before issue" so-and-so."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("dashboard", "loaders", "pages", "docs", "tests", "bench", "tools")
TOP_FILES = ("README.md", "streamlit_app.py")
HISTORY = re.compile(r"\(issues? #?\d|\bissues?[- ]#?\d|\bissue #|\bbefore issue\b", re.IGNORECASE)


def _files() -> list[Path]:
    found = [ROOT / name for name in TOP_FILES]
    for folder in FOLDERS:
        found += [p for pattern in ("*.py", "*.md") for p in (ROOT / folder).rglob(pattern)]
    this = Path(__file__).resolve()
    return sorted(p for p in found if p.resolve() != this)


def test_the_scan_covers_code_and_docs():
    names = {p.relative_to(ROOT).as_posix() for p in _files()}
    assert {"README.md", "docs/architecture.md", "dashboard/db.py", "tests/unit/test_docs_links.py"} <= names
    assert "tests/unit/test_no_history.py" not in names


def test_the_pattern_catches_issue_citations_and_lets_ordinary_words_pass():
    for cited in ("fixed (issue 12)", "see issue #7", "issue-31 again", "as before issue 4", "(issues 3 and 4)"):
        assert HISTORY.search(cited), cited
    for fine in ("an issue with the data", "issues a warning", "issuing a token", "the tissue 3 sample"):
        assert not HISTORY.search(fine), fine


def test_no_code_or_doc_cites_an_issue():
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
             for p in _files() for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if HISTORY.search(line)]
    assert not found, "state what is true now instead of citing an issue (git keeps the history):\n" + "\n".join(found)
