"""docs/data-contract.md is the code's contract: every column of every kind is documented with its type and rule."""

from pathlib import Path

from dashboard.ingest.contract import KINDS, describe

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"


def test_every_contract_column_is_documented_with_its_type_and_rule():
    text = DOC.read_text()
    for kind in KINDS:
        section = text.split(f"**{kind}** — natural key", 1)
        assert len(section) == 2, f"{DOC.name} has no contract table for {kind}"
        table = section[1].split("\n\n", 2)[1]
        for row in describe(kind).itertuples():
            line = f"| `{row.column}` | {row.type} | {'yes' if row.required else ''} | {row.rule} |"
            assert line in table, f"{DOC.name}: the contract for {kind} is out of date: {line}"
