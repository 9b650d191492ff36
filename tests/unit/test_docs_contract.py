"""The README's data contract is the code's: every column of every kind is documented with its type."""

from pathlib import Path

from loaders.contract import KINDS, describe

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_contract_column_is_documented_with_its_type_and_rule():
    for kind in KINDS:
        section = README.split(f"**{kind}** — natural key", 1)
        assert len(section) == 2, f"README has no contract table for {kind}"
        table = section[1].split("\n\n", 2)[1]
        for row in describe(kind).itertuples():
            line = f"| `{row.column}` | {row.type} | {'yes' if row.required else ''} | {row.rule} |"
            assert line in table, f"README contract for {kind} is out of date: {line}"
