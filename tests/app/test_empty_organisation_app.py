"""Every page that needs an organisation says the same thing, in the same words, on a database without one."""

from __future__ import annotations

import pytest

from dashboard.db import make_engine, migrate
from dashboard.ui.data import NO_ORGANISATION


@pytest.mark.parametrize("page", [None, "pages/spoke_page.py", "pages/scenarios_page.py", "pages/routing_page.py",
                                  "pages/operating_model_page.py"])
def test_a_page_without_an_organisation_says_how_to_load_one(app, tmp_path, use_db, page):
    url = use_db(f"sqlite:///{tmp_path / 'empty.db'}")
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    at = app(page).run()
    assert not at.exception and not at.error
    assert [i.value for i in at.info] == [NO_ORGANISATION]
