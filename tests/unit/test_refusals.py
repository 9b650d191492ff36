"""A refusal meant for a person is a :class:`dashboard.domain.refusals.Refused`, and only refusals are shown as
advice (docs/architecture.md, "… a write").

- every ``ValueError`` a use case in ``dashboard/services/`` raises is a ``Refused`` (its message is a sentence
  for the person), except the few that only a caller's bug can raise, listed in ``CALLER_BUGS`` with why;
- the refusals the pages show (use cases', the routing rules', the what-if inputs', a link's values) are
  ``Refused`` and still ``ValueError``, so code that catches ``ValueError`` keeps catching them;
- the UI catches a bare ``ValueError`` only around one statement that parses a value (``int(text)``,
  ``Role(text)``), never around a use case: a ``ValueError`` from pandas, numpy or a typo is a bug, not advice.

Checked on the syntax tree, so a new ``raise ValueError("…")`` in a use case or a wide ``except ValueError`` in a
page fails here.
"""

from __future__ import annotations

import ast
import builtins
import importlib
from pathlib import Path

import pytest

from dashboard.domain.access import NotPermitted
from dashboard.domain.maturity import AssessmentError
from dashboard.domain.refusals import Refused
from dashboard.domain.routing import RuleError
from dashboard.domain.urlvalues import UrlValueError
from dashboard.services.autoroute import InvalidActiveRules
from dashboard.services.cycle import CycleError, StaleChange
from dashboard.services.items import ActionRefused
from dashboard.services.routing import DraftExists, StaleDraft, UnitInUse
from dashboard.services.scenarios import ScenarioExists
from dashboard.services.units import UnknownUnit
from dashboard.whatif.calendar import CalendarError
from dashboard.whatif.calibration import CalibrationError
from dashboard.whatif.inputs import InputError

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "dashboard" / "services"
UI = ("dashboard/ui", "pages")
# (module, function) -> why a plain ValueError there is a caller's bug, never something a person typed
CALLER_BUGS = {
    ("dashboard.services.items", "act"): "the action comes from the page's own buttons (ACTIONS)",
    ("dashboard.services.changes", "writes"): "the data names are written in the code, checked at import",
}
REFUSALS = [ScenarioExists, StaleDraft, DraftExists, UnitInUse, UnknownUnit, ActionRefused, StaleChange, CycleError,
            InvalidActiveRules, RuleError, UrlValueError, AssessmentError, InputError, CalendarError, CalibrationError]


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _resolve(expr: ast.expr, module) -> object | None:
    """What a raise names (``ValueError``, ``Refused``, ``store.StoreError``), looked up in the module; None for
    anything else (a caught exception raised again, a call's result)."""
    if isinstance(expr, ast.Call):
        expr = expr.func
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    found = getattr(module, expr.id, getattr(builtins, expr.id, None))
    for attr in reversed(parts):
        found = getattr(found, attr, None)
    return found


def _raises(path: Path):
    """(function, line, what is raised) for every ``raise X`` / ``raise X(...)`` in a module."""
    module = importlib.import_module(_module_name(path))
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

    def walk(node: ast.AST, function: str):
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.Raise) and child.exc is not None:
                yield name, child.lineno, _resolve(child.exc, module)
            yield from walk(child, name)

    yield from walk(tree, "")


def test_the_scan_sees_the_use_cases_refusals_and_a_bare_value_error():
    seen = {(_module_name(p), fn, found) for p in sorted(SERVICES.glob("*.py")) for fn, _line, found in _raises(p)}
    assert ("dashboard.services.scenarios", "save_scenario", Refused) in seen
    assert ("dashboard.services.scenarios", "save_scenario", ScenarioExists) in seen
    assert ("dashboard.services.routing", "publish", Refused) in seen
    assert ("dashboard.services.items", "act", ValueError) in seen  # a caller's bug, listed in CALLER_BUGS


def test_every_value_error_a_use_case_raises_is_a_refusal():
    found = []
    for path in sorted(SERVICES.glob("*.py")):
        module = _module_name(path)
        for function, line, raised in _raises(path):
            if not (isinstance(raised, type) and issubclass(raised, ValueError)) or issubclass(raised, Refused):
                continue
            if (module, function) not in CALLER_BUGS:
                found.append(f"{path.relative_to(ROOT)}:{line} ({function}) raises {raised.__name__}")
    assert not found, ("a use case refuses with dashboard.domain.refusals.Refused (or a subclass) and a sentence for "
                       "the person; a plain ValueError is shown to nobody:\n" + "\n".join(found))


def test_the_listed_caller_bugs_still_raise_a_plain_value_error():
    raising = {(_module_name(p), fn) for p in sorted(SERVICES.glob("*.py")) for fn, _line, raised in _raises(p)
               if raised is ValueError}
    assert set(CALLER_BUGS) <= raising, "remove the entries that no longer raise a plain ValueError"


def test_every_value_error_class_of_the_use_cases_is_a_refusal():
    classes = []
    for path in sorted(SERVICES.glob("*.py")):
        module = importlib.import_module(_module_name(path))
        classes += [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, ValueError)
                    and v.__module__ == module.__name__]
    assert classes and all(issubclass(c, Refused) for c in classes), [c for c in classes if not issubclass(c, Refused)]


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda c: c.__name__)
def test_the_refusals_the_pages_show_are_refused_and_still_value_errors(refusal):
    assert issubclass(refusal, Refused) and issubclass(refusal, ValueError)


def test_not_permitted_is_its_own_family():
    """The role check is a PermissionError, not a Refused: pages that show refusals catch both by name."""
    assert issubclass(NotPermitted, PermissionError) and not issubclass(NotPermitted, ValueError)


def _catches_value_error(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id == "ValueError" for n in names)


def test_the_ui_catches_a_bare_value_error_only_around_one_parsing_statement():
    found = []
    for folder in UI:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Try):
                    continue
                wide = len(node.body) > 1 or isinstance(node.body[0], ast.With | ast.For | ast.While | ast.If)
                for handler in node.handlers:
                    if handler.type is not None and _catches_value_error(handler) and wide:
                        found.append(f"{path.relative_to(ROOT)}:{handler.lineno}")
    assert not found, ("catch the refusal (dashboard.domain.refusals.Refused, NotPermitted, or the specific type) "
                       "rather than ValueError, which a bug raises too; a ValueError catch belongs around the one "
                       "statement that parses a value:\n" + "\n".join(found))


SHOWN = {"warning", "error", "info", "success", "markdown", "caption", "write", "toast"}


def _raw_exception_shown(tree: ast.AST) -> list[int]:
    """Lines where an ``except … as exc`` body hands ``exc`` (or ``str(exc)``) to a Streamlit call that renders
    Markdown: a refusal's message can carry people's text (a scenario's name, an e-mail), so it goes through
    ``dashboard.ui.text.md`` first."""
    lines = []
    for handler in ast.walk(tree):
        if not isinstance(handler, ast.ExceptHandler) or not handler.name:
            continue
        for node in ast.walk(ast.Module(body=handler.body, type_ignores=[])):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SHOWN
                    and node.args):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "str" and arg.args:
                arg = arg.args[0]
            if isinstance(arg, ast.Name) and arg.id == handler.name:
                lines.append(node.lineno)
    return lines


def test_a_refusal_is_shown_literally_not_as_markdown():
    found = {}
    for path in sorted([*(ROOT / "dashboard" / "ui").rglob("*.py"), *(ROOT / "pages").glob("*.py")]):
        lines = _raw_exception_shown(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            found[str(path.relative_to(ROOT))] = lines
    # the settings check runs before anything else, its messages name settings, never people's text
    assert found == {"dashboard/ui/shell.py": found.get("dashboard/ui/shell.py", [])}, found
    assert len(found.get("dashboard/ui/shell.py", [])) <= 1, found


def test_the_raw_exception_check_finds_what_it_looks_for():
    code = "try:\n    f()\nexcept E as exc:\n    st.warning(str(exc))\n    st.error(exc)\n    st.info(md(exc))\n"
    assert _raw_exception_shown(ast.parse(code)) == [4, 5]
