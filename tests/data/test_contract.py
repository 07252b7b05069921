from pathlib import Path

import pytest

from shopbook.data import contract
from shopbook.errors import ContractError

ROOT = Path(__file__).resolve().parents[2]


def test_the_tables_of_the_design_are_declared():
    # the eight of the design, and the optional promotions / offers of notebook 09
    assert set(contract.TABLES) == {
        "orders",
        "order_items",
        "products",
        "customers",
        "sessions",
        "assignments",
        "inventory",
        "marketing_spend",
        "promotions",
        "offers",
    }


def test_data_readme_documents_the_contract_as_declared():
    text = (ROOT / "data" / "README.md").read_text()
    section = text.split(contract.BEGIN_MARK, 1)[1].split(contract.END_MARK, 1)[0]
    assert section.strip() == contract.to_markdown().strip(), "run `make contract-docs`"


def test_every_key_and_reference_names_declared_columns():
    for t in contract.TABLES.values():
        for col in t.primary_key + t.one_value:
            assert col in t
        for fk in t.foreign_keys:
            assert all(c in t for c in fk.columns)
            ref = contract.TABLES[fk.ref_table]
            assert all(c in ref for c in fk.ref_columns)
        for cols, _ in t.unique_groups:
            assert all(c in t for c in cols)


def test_unknown_table_name_is_a_contract_error_that_says_what_exists():
    with pytest.raises(ContractError) as err:
        contract.table("ordres")
    assert "ordres" in str(err.value) and "orders" in str(err.value)


def test_ibis_schema_uses_contract_types():
    schema = contract.ORDERS.ibis_schema()
    assert str(schema["order_ts"]).startswith("timestamp")
    assert str(schema["net_amount"]) == "float64"
