"""Use cases that change data: each checks the viewer's role, writes through :mod:`dashboard.store`, records
what it did in the audit trail (:mod:`dashboard.audit`), and runs in one transaction.

The caller owns that transaction (``with engine.begin() as conn: units.set_office_hours(conn, viewer, ...)``):
nothing here commits, so a refusal or a failure anywhere leaves neither the change nor its audit entry.
A page or command that changes data calls one of these rather than writing tables itself, so each rule
(who may, what is valid, what is recorded) lives in one place.
"""
