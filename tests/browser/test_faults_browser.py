"""PostgreSQL stopped and started under an open browser tab: the page shows the banner while it is down and
comes back by itself when it is up again — no reload, no click, no app restart."""

from __future__ import annotations

import pytest

from tests.browser.conftest import start_server
from tests.pg import postgres_with_demo


@pytest.fixture
def pg_with_demo():
    server = postgres_with_demo("faults", work_items=2000, kpi_observations=1000)
    try:
        yield server
    finally:
        server.cleanup()


def test_the_page_recovers_by_itself_after_a_postgres_restart(page, pg_with_demo, tmp_path):
    app = start_server(pg_with_demo.url("faults"), tmp_path, cache_ttl_seconds=1)
    try:
        page.goto(f"{app.url}/spoke?unit=sales")
        inbox = page.get_by_role("heading", name="Inbox: work routed to this team")
        inbox.wait_for()
        pg_with_demo.stop()
        try:
            page.reload()  # a rerun while the database is down
            page.get_by_text("Cannot reach the database").wait_for(timeout=30_000)
            assert page.get_by_text("comes back by itself").count() == 1
            assert page.get_by_text("Traceback").count() == 0
        finally:
            pg_with_demo.restart()
        inbox.wait_for(timeout=30_000)  # nobody touches the page: the banner's retry brings it back
        assert page.get_by_text("Cannot reach the database").count() == 0
    finally:
        app.stop()
