"""The one set of redaction rules (shopbook.redaction), used by sources, runs and render."""

from __future__ import annotations

from shopbook import redaction


def test_redaction_rules():
    assert redaction.is_secret_name("password") and redaction.is_secret_name("DB_PASSWORD")
    assert redaction.is_secret_name("apiKey") and redaction.is_secret_name("access_token")
    assert not redaction.is_secret_name("source") and not redaction.is_secret_name("monkey_count")
    red, secrets = redaction.redact_parameters(
        {
            "source": "postgresql://user:pw1234@host:5432/db?sslmode=require",
            "url": "https://x.test/api?token=abcd1234&x=1",
            "n": 3,
            "secret_sauce": "ketchup",
            "nested": {"password": "xyzw"},
        }
    )
    assert red["source"] == "postgresql://user:***@host:5432/db?sslmode=require"
    assert red["url"] == "https://x.test/api?token=***&x=1"
    assert red["n"] == 3 and red["secret_sauce"] == "***" and red["nested"] == {"password": "***"}
    assert {"pw1234", "abcd1234", "ketchup", "xyzw"} <= secrets
    assert (
        redaction.redact_text("error connecting to postgres://a:b@c/d, ketchup", {"ketchup"})
        == "error connecting to postgres://a:***@c/d, ***"
    )


def test_token_shapes_are_redacted():
    token = "sk-live-abcdefghijklmnopqrstuvwxyz012345"
    assert redaction.secrets_in(f"key {token} here") == [token]
    assert redaction.redact_text(f"key {token} here") == "key *** here"
    assert redaction.redact_text("data/shop.duckdb") == "data/shop.duckdb"


def test_a_source_address_goes_through_the_same_rules():
    from shopbook.data.sources import redact_uri

    for uri in (
        "postgres://ana:s3cret@db:5432/shop",
        "postgres://db/shop?password=hunter22&sslmode=require",
        "data/shop.duckdb",
    ):
        assert redact_uri(uri) == redaction.redact_text(uri)
    assert "hunter22" not in redact_uri("postgres://db/shop?password=hunter22")
