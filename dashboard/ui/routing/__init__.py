"""The Routing page (``pages/routing_page.py``), one module per tab:

- :mod:`.state`: what every tab reads once per run (:class:`.state.RoutingData`), what a session keeps between
  runs (the draft being edited, the last replay) and running a write;
- :mod:`.rules_table`: rules as an editable table and back, and the read-only table;
- :mod:`.rules_tab`: the active set and the draft editor (start, save, discard);
- :mod:`.try_tab`: which rule fires for a typed or an existing item, and why;
- :mod:`.replay_tab`: replay the saved draft over the last days' items, and publish it;
- :mod:`.history_tab`: the published versions, each with its changes.

(The FAQ candidates tab is :mod:`dashboard.ui.faq_view`.)

Who: admins and hub leads edit, replay and publish; executives see everything read-only (edit widgets are
disabled with the reason); spoke leads do not get the page (and the data layer refuses them too).
"""
