"""The overview's part of test_access.py's inventory."""

CALLS = {
    "overview.overview_scope": lambda c: dict(),
}
