"""Sign-in and roles through the real app: each role's pages, refusals on the page and in the data, the
no-access and sign-in screens, roles from the users table, the admin page and the audit trail.

Identity is stubbed where the app reads it: ``dashboard.ui.identity.auth_configured`` and
``signed_in_claims`` are the only two functions that touch Streamlit's auth state, and AppTest runs the
script in this process, so patching those module attributes signs anyone in with any claims.

Which pages a role gets: ``st.navigation`` registers them with the session, and ``AppTest.switch_page``
resolves a page file only against that registry — a file the role's navigation did not register raises
``ValueError`` ("Could not find a navigation page"). ``menu()`` probes every page of ``shell.PAGES`` that way,
with public API only. What happens when someone asks for such a page anyway (a typed or forwarded URL) is
tested separately: ``test_a_page_outside_the_role_is_never_rendered``.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import select

from dashboard.db import audit_log, make_engine
from dashboard.domain.access import PAGE_PERMISSIONS, Role, Viewer
from dashboard.services import users as user_service
from dashboard.ui import identity
from dashboard.ui.shell import PAGES
from tests.app.shown import shown

ADA = {"email": "ada@example.com", "role": "admin", "sub": "ada"}
EVE = {"email": "eve@example.com", "role": "executive", "sub": "eve"}
HAL = {"email": "hal@example.com", "role": "hub_lead", "sub": "hal"}
SAM = {"email": "sam@example.com", "role": "spoke_lead", "unit": "sales", "sub": "sam"}
CLAIMS = {"admin": ADA, "executive": EVE, "hub_lead": HAL, "spoke_lead": SAM}
ADMIN = Viewer("ada@example.com", Role.ADMIN)

TITLES = {file: title for file, title, _icon in PAGES.values()}
ALL = ["Overview", "Spokes", "Scenarios", "Routing", "Operating model", "Data health", "Import data", "Users & audit"]



def signed_out_everywhere(at, check) -> None:
    """Run every page file on its own (as a URL from before the shell existed would) and ``check`` each run.
    Before st.navigation has run, AppTest (like Streamlit) knows the files in pages/ as legacy pages, so
    switch_page reaches each of them: ``require_shell`` must stop every one at the same screen."""
    for file in TITLES:
        at.switch_page(file)
        at.run()
        assert not at.exception, (file, at.exception)
        check(at)


def menu(at) -> list[str]:
    """Titles of the pages this session's navigation registered, in menu order (see the module doc).
    Leaves the AppTest pointed at the last page found; switch again before the next run."""
    found = []
    for file, title, _icon in PAGES.values():
        try:
            at.switch_page(file)
        except ValueError as exc:
            assert "Could not find a navigation page" in str(exc)
            continue
        found.append(title)
    return found


def audit_entries(url, action=None):
    a = audit_log.c
    stmt = select(a.user, a.role, a.action, a.target, a.detail).order_by(a.id)
    if action:
        stmt = stmt.where(a.action == action)
    with make_engine(url).connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def only_sidebar_text(at) -> list[str]:
    return [c.value for c in at.sidebar.caption]


# --- each role's pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role, pages, start", [
    ("executive", ["Overview", "Spokes", "Scenarios", "Routing", "Operating model", "Data health"], "Overview"),
    ("hub_lead", ["Overview", "Spokes", "Scenarios", "Routing", "Operating model", "Data health", "Import data"], "Overview"),
    ("spoke_lead", ["Overview", "Spokes", "Scenarios", "Operating model"], "Sales"),  # starts on their own spoke
    ("admin", ALL, "Overview"),
])
def test_each_role_gets_its_pages(app, app_db, sign_in, role, pages, start):
    sign_in(CLAIMS[role])
    at = app().run()
    assert not at.exception, at.exception
    assert at.title[0].value == start
    label = {"executive": "Executive", "hub_lead": "Hub lead", "spoke_lead": "Spoke lead · sales", "admin": "Admin"}
    assert only_sidebar_text(at) == [f"Signed in as **{CLAIMS[role]['email']}** ({label[role]})"]
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    assert menu(at) == pages


def test_every_page_of_the_shell_says_which_permission_opens_it():
    assert list(PAGES) == list(PAGE_PERMISSIONS)  # a page of the menu without a permission is closed to everyone


@pytest.mark.parametrize("role", ["executive", "hub_lead", "spoke_lead", "admin"])
def test_the_menu_is_the_pages_the_role_may_open(app, app_db, sign_in, role):
    """The shell asks Viewer.may_open (dashboard.domain.access.PAGE_PERMISSIONS) and nothing else: the menu is
    exactly the pages it opens, in the shell's order."""
    sign_in(CLAIMS[role])
    at = app().run()
    assert not at.exception, at.exception
    viewer = Viewer(CLAIMS[role]["email"], Role(role), unit=CLAIMS[role].get("unit"))
    assert menu(at) == [title for path, (_file, title, _icon) in PAGES.items() if viewer.may_open(path)]


def test_every_page_a_role_gets_opens_without_error(app, app_db, sign_in):
    """The executive's read-only data health page and the hub lead's import page actually open."""
    sign_in(EVE)
    at = app("pages/health_page.py").run()
    assert not at.exception and at.title[0].value == "Data health"
    sign_in(HAL)
    at = app("pages/upload_page.py").run()
    assert not at.exception and at.title[0].value == "Import data"
    assert len(at.get("file_uploader")) == 1


def test_a_page_outside_the_role_is_never_rendered(app, app_db, sign_in):
    """A URL for a page the role lacks (typed, bookmarked, or forwarded by an admin). AppTest.switch_page will
    not produce that request for an unregistered page, so the request is made while an admin is signed in
    and the next run happens as someone else: st.navigation does not find the requested page among the ones
    it registered for this role, tells the browser "page not found" and runs the role's default page."""
    sign_in(ADA)
    at = app("pages/upload_page.py").run()
    assert at.title[0].value == "Import data"  # the admin has it
    sign_in(EVE)
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Overview"]  # the default page instead
    assert not at.get("file_uploader")

    sign_in(ADA)
    at = app("pages/admin_page.py").run()
    assert at.title[0].value == "Users & audit"
    sign_in(HAL)
    at.run()
    assert [t.value for t in at.title] == ["Overview"]
    assert not [d for d in at.dataframe if d.key == "users_editor"]


# --- refusals on the pages ----------------------------------------------------------------------------------------


def test_a_spoke_lead_opening_another_spoke_is_not_permitted(app, app_db, sign_in):
    sign_in(SAM)
    at = app("pages/spoke_page.py", unit="finance").run()  # a tampered link
    assert not at.exception
    assert at.title[0].value == "Not permitted"
    assert "may not open the “Finance” spoke" in at.error[0].value
    assert not at.dataframe and not at.get("download_button") and not at.metric  # no inbox, no KPIs
    assert [link.proto.label for link in at.get("page_link")] == ["Sales"]  # only the spoke they may open


def test_an_executive_sees_the_inbox_read_only(app, app_db, sign_in):
    sign_in(EVE)
    at = app("pages/spoke_page.py", unit="sales").run()
    assert not at.exception
    inbox = next(d for d in at.dataframe if "Item" in d.value.columns).value
    assert len(inbox) == 5
    assert "Read-only: your role can see this inbox but not act on it." in [c.value for c in at.caption]
    assert "Apply" not in [b.label for b in at.button]
    assert "Action" not in [s.label for s in at.selectbox]


def test_a_spoke_lead_on_scenarios_explores_but_cannot_save(app, app_db, sign_in):
    sign_in(SAM)
    at = app("pages/scenarios_page.py").run()
    assert not at.exception, at.exception  # (the calibration the page starts from is organisation-wide)
    assert at.title[0].value == "Scenarios"
    assert "Read-only: you can explore and compare scenarios; hub leads save them." in [c.value for c in at.caption]
    assert not {"Save scenario", "Delete", "Duplicate"} & {b.label for b in at.button}
    assert not [t for t in at.text_input if t.label == "Name"]
    assert any("Not calibrated: your role does not see" in shown(m.value) for m in at.markdown)


# --- nobody to serve ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("claims, user, why", [
    ({"email": "wiz@example.com", "role": "wizard", "sub": "wiz"}, "wiz@example.com", "you have no role in this dashboard yet"),
    ({"email": "lee@example.com", "role": "spoke_lead", "sub": "lee"}, "lee@example.com", "you are a spoke lead without a spoke"),
    ({"role": "admin"}, "unknown", "the sign-in did not say who you are (no 'email' claim)"),
], ids=["unknown role", "spoke lead without spoke", "no user claim"])
def test_no_role_gets_the_no_access_page_and_nothing_else(app, app_db, sign_in, claims, user, why):
    sign_in(claims)
    at = app().run()

    def no_access(at):
        assert [type(e).__name__ for e in at.main.children.values()] == ["Title", "Warning", "Button"]
        assert at.title[0].value == "No access yet"
        assert at.warning[0].value == f"You are signed in as **{user}**, but {why}. Ask an admin to give you a role."
        assert [b.label for b in at.button] == ["Sign out"]
        assert not at.sidebar.children

    assert not at.exception
    no_access(at)
    signed_out_everywhere(at, no_access)
    [entry] = audit_entries(app_db)  # the refused sign-in is on record, once
    assert (entry["user"], entry["role"], entry["action"], entry["detail"]) == (user, "none", "sign_in",
                                                                                 f"no access: {why}")


def test_signed_out_gets_the_sign_in_screen(app, app_db, sign_in):
    sign_in(None)
    at = app().run()

    def sign_in_screen(at):
        assert [type(e).__name__ for e in at.main.children.values()] == ["Title", "Markdown", "Button", "Caption"]
        assert at.title[0].value == "Hub & Spoke"
        assert [b.label for b in at.button] == ["Sign in"]
        assert not at.sidebar.children

    assert not at.exception
    sign_in_screen(at)
    signed_out_everywhere(at, sign_in_screen)
    assert audit_entries(app_db) == []


def test_sign_in_is_required_when_local_mode_is_off(app, app_db, use_db, monkeypatch):
    use_db(app_db, local_mode="false")
    monkeypatch.setattr(identity, "auth_configured", lambda: False)  # no [auth] in secrets.toml
    at = app().run()
    assert not at.exception

    def refused(at):
        assert "Sign-in is not configured and local mode is off" in at.error[0].value
        assert [type(e).__name__ for e in at.main.children.values()] == ["Error"]
        assert not at.sidebar.children

    assert not at.exception
    refused(at)
    signed_out_everywhere(at, refused)


def test_without_sign_in_development_runs_as_the_local_admin(app, app_db, monkeypatch):
    monkeypatch.setattr(identity, "auth_configured", lambda: False)
    at = app().run()
    assert not at.exception
    assert only_sidebar_text(at) == ["Signed in as **local admin**"]
    assert menu(at) == ALL


# --- roles from the users table ------------------------------------------------------------------------------------


def test_a_token_without_a_role_takes_it_from_the_users_table(app, app_db, sign_in):
    with make_engine(app_db).begin() as conn:
        assert user_service.save_users(conn, ADMIN, pd.DataFrame([
            dict(user="pat@example.com", name="Pat", role="hub_lead", unit=None, active=True),
            dict(user="fay@example.com", name="Fay", role="spoke_lead", unit="finance", active=True),
        ])) == []
    sign_in({"email": "Pat@Example.com", "sub": "pat"})  # the identity provider sends no role
    at = app().run()
    assert not at.exception
    assert only_sidebar_text(at) == ["Signed in as **Pat@Example.com** (Hub lead)"]
    assert "Import data" in menu(at)

    sign_in({"email": "fay@example.com", "sub": "fay"})
    at = app().run()
    assert at.title[0].value == "Finance"  # a spoke lead's spoke comes from the table too
    assert menu(at) == ["Overview", "Spokes", "Scenarios", "Operating model"]


# --- the admin page and the audit trail ---------------------------------------------------------------------------------


def test_the_admin_page_lists_users_and_searches_the_audit_trail(app, app_db, sign_in):
    with make_engine(app_db).begin() as conn:
        assert user_service.save_users(conn, ADMIN, pd.DataFrame([
            dict(user="pat@example.com", name="Pat", role="executive", unit=None, active=True),
            dict(user="sam@example.com", name="Sam", role="spoke_lead", unit="sales", active=True),
        ])) == []
    sign_in(SAM)
    app().run()  # Sam opens the app: a sign-in entry
    sign_in(ADA)
    at = app("pages/admin_page.py").run()
    at.run()  # a rerun in the same session is not a new sign-in
    assert not at.exception
    listed = at.dataframe(key="users_editor").value
    assert listed[["user", "role", "unit"]].fillna("").values.tolist() == [
        ["pat@example.com", "executive", ""], ["sam@example.com", "spoke_lead", "sales"]]
    trail = next(d for d in at.dataframe if d.key != "users_editor").value
    assert trail[["User", "Action", "Target"]].fillna("").values.tolist() == [  # newest first, actions in words
        ["ada@example.com", "Signed in", ""],
        ["sam@example.com", "Signed in", ""],
        ["ada@example.com", "Changed a user", "sam@example.com"],
        ["ada@example.com", "Changed a user", "pat@example.com"],
    ]
    assert [(e["user"], e["role"]) for e in audit_entries(app_db, "sign_in")] == [
        ("sam@example.com", "spoke_lead"), ("ada@example.com", "admin")]

    at.text_input(key="audit_user").input("sam").run()
    assert next(d for d in at.dataframe if d.key != "users_editor").value.Action.tolist() == ["Signed in"]
    at.text_input(key="audit_user").input("").run()
    at.selectbox(key="audit_action").set_value("user_change").run()
    at.text_input(key="audit_text").input("spoke sales").run()
    trail = next(d for d in at.dataframe if d.key != "users_editor").value
    assert trail[["Target", "Detail"]].values.tolist() == [["sam@example.com", "added: role spoke_lead, spoke sales"]]

    # saving the table as it stands changes nobody: no new entries
    next(b for b in at.button if b.label == "Save users").click().run()
    assert not at.exception
    assert "Saved 2 users." in at.success[0].value
    assert len(audit_entries(app_db, "user_change")) == 2
