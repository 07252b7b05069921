"""Settings: one resolver of the data source, used by notebooks, the runner and open_source."""

from __future__ import annotations

from shopbook import config


def test_resolve_source_walks_up(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "shop.duckdb").write_bytes(b"")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.delenv("SHOPBOOK_SOURCE", raising=False)
    monkeypatch.delenv("SHOPBOOK_HOME", raising=False)
    assert config.resolve_source("") == "../data/shop.duckdb"
    assert config.default_source() == "../data/shop.duckdb"  # the same rule, not a twin
    monkeypatch.setenv("SHOPBOOK_SOURCE", "postgres://u@h/db")
    assert config.resolve_source("") == "postgres://u@h/db"
    assert config.default_source() == "postgres://u@h/db"
    assert (
        config.resolve_source("no-such-shopbook-source.duckdb") == "no-such-shopbook-source.duckdb"
    )


def test_resolve_source_keeps_uris_and_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHOPBOOK_SOURCE", raising=False)
    assert config.resolve_source("duckdb://x.db") == "duckdb://x.db"
    assert config.resolve_source(tmp_path / "shop.duckdb") == str(tmp_path / "shop.duckdb")
    assert config.resolve_source("file://data/a.duckdb") == "data/a.duckdb"


def test_resolve_source_looks_in_shopbook_home(tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "data" / "shop.duckdb").write_bytes(b"")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("SHOPBOOK_SOURCE", raising=False)
    monkeypatch.setenv("SHOPBOOK_HOME", str(project))
    assert config.resolve_source() == "../project/data/shop.duckdb"


def test_notebooks_and_the_runner_use_the_config_resolver():
    import shopbook.notebook as nb
    from shopbook.report import runs

    assert nb.resolve_source is config.resolve_source
    assert runs.config.resolve_source is config.resolve_source
