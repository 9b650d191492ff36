"""The Operating model page (``pages/operating_model_page.py``): the cycle Assess → Design → Implement →
Evaluate, and the shared goal's attribution, one module per tab:

- :mod:`.assess`: a maturity self-assessment per function (structure, processes, data management, technology,
  1–5 against guidance), the radar of the latest vs the previous one, the trend and the history;
- :mod:`.design`: the current target operating model (promoted from a saved scenario) and promoting another one,
  with the planned changes it implies and the what-if model's predicted effect of each;
- :mod:`.implement`: the planned changes as an editable table (owner, due date, status, done date); a change
  marked done becomes a dated annotation on the overview's and the spoke pages' trend charts;
- Evaluate / Attribution: :mod:`dashboard.ui.evaluation_view` / :mod:`dashboard.ui.attribution_view`;
- :mod:`.common`: the cached reads the tabs share, labels, dates, and refreshing after a write.

Writing needs ``Viewer.can_edit_operating_model`` (hub leads, admins); everyone else sees the same page read-only.
"""
