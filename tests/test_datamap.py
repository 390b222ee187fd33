"""The data map names every table and column, so that a DPIA written from it
cannot go stale: a migration that adds a column without a description fails here."""

from __future__ import annotations

import pytest

from storage.datamap import TABLES, datamap, live_schema, undescribed
from storage.migrations import MIGRATIONS
from tests.support.bot import run_cli


def test_every_column_of_a_freshly_migrated_database_has_a_description():
    assert undescribed(live_schema()) == []


def test_a_column_a_migration_adds_without_a_description_fails(monkeypatch):
    monkeypatch.setattr(
        "storage.datamap.MIGRATIONS",
        [*MIGRATIONS, "ALTER TABLE people ADD COLUMN shoe_size INTEGER"],
    )
    assert undescribed(live_schema()) == ["people.shoe_size"]
    with pytest.raises(ValueError, match="people.shoe_size"):
        datamap()


def test_descriptions_name_only_what_exists():
    schema = live_schema()
    for table, described in TABLES.items():
        assert table in schema, f"{table} is described but not in the schema"
        assert set(described.columns) <= set(schema[table]), table


async def test_python_m_bot_datamap_names_every_column(tmp_path):
    code, output = await run_cli(tmp_path, "datamap")
    assert code == 0, output
    for table, columns in live_schema().items():
        assert f"## `{table}`" in output
        section = output.split(f"## `{table}`", 1)[1].split("\n## ", 1)[0]
        for column in columns:
            assert f"| `{column}` |" in section, f"{table}.{column}"
    assert "personal: people's own words" in output
