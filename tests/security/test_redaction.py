"""Secret detection and redaction (issue 13, item 10): the rules of shopbook.redaction.

Each case is a hostile value that leaked before: the promised result is the exact redacted
text, and the secret never survives.
"""

from __future__ import annotations

import io

import pytest

from shopbook import redaction
from shopbook.redaction import RedactingStream, redact_text, secrets_in

CASES = [
    # a misspelt scheme is still a URI with a password
    (
        "Don't know how to connect to 'postgress://u:hunter2@127.0.0.1:1/db'",
        "Don't know how to connect to 'postgress://u:***@127.0.0.1:1/db'",
        "hunter2",
    ),
    # '@' and '/' inside the password: the password runs to the last '@'
    ("postgres://u:p@ss/w0rd@db:5432/shop", "postgres://u:***@db:5432/shop", "p@ss/w0rd"),
    ("postgresql://u:a/b/c@db/shop", "postgresql://u:***@db/shop", "a/b/c"),
    # a user name with '@' (Azure style)
    ("postgres://ana@server:s3cret@db/shop", "postgres://ana@server:***@db/shop", "s3cret"),
    # password= inside a value
    ("postgres://db/shop?password=hunter22&x=1", "postgres://db/shop?password=***&x=1", "hunter22"),
    ("host=a password=hunter2 dbname=b", "host=a password=*** dbname=b", "hunter2"),
    ("host=a password='two words' port=5", "host=a password='***' port=5", "two words"),
    ("dbname=b pwd=hunter2", "dbname=b pwd=***", "hunter2"),
    ("pw=hunter2", "pw=***", "hunter2"),
    ("-p db_password=hunter2", "-p db_password=***", "hunter2"),
    ("user=ana passwd=hunter2", "user=ana passwd=***", "hunter2"),
    ("{'password': 'hunter2', 'n': 1}", "{'password': '***', 'n': 1}", "hunter2"),
    ('{"api_key": "abcd1234"}', '{"api_key": "***"}', "abcd1234"),
    ("https://x.test/api?pw=hunter2", "https://x.test/api?pw=***", "hunter2"),
    # webhooks
    (
        "https://hooks.slack.com/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX",
        "https://hooks.slack.com/services/***",
        "XXXXXXXXXXXXXXXXXXXXXXXX",
    ),
    (
        "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef",
        "https://oapi.dingtalk.com/robot/send?access_token=***",
        "0123456789abcdef",
    ),
    (
        "https://open.feishu.cn/open-apis/bot/v2/hook/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
        "https://open.feishu.cn/open-apis/bot/v2/hook/***",
        "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
    ),
    (
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***",
        "693a91f6-7xxx",
    ),
    (
        "https://discord.com/api/webhooks/1234567/abcDEFghiJKL",
        "https://discord.com/api/webhooks/***",
        "abcDEFghiJKL",
    ),
    # tokens
    ("Authorization: Bearer abcdefghijklmnop.qrs", "Authorization: Bearer ***", "abcdefghijklmnop"),
    ("Authorization: Basic dXNlcjpodW50ZXIy", "Authorization: Basic ***", "dXNlcjpodW50ZXIy"),
    ("{'Authorization': 'abcdefghijklmnop'}", "{'Authorization': '***'}", "abcdefghijklmnop"),
    ("token ghp_" + "a" * 36 + " here", "token *** here", "ghp_" + "a" * 36),
    ("key sk_live_" + "b" * 24, "key ***", "sk_live_" + "b" * 24),
    ("aws ASIA" + "C" * 16, "aws ***", "ASIA" + "C" * 16),
]


@pytest.mark.parametrize(("text", "redacted", "secret"), CASES)
def test_each_hostile_value_is_redacted(text, redacted, secret):
    assert redact_text(text) == redacted
    assert secret not in redact_text(text)
    assert any(secret in s for s in secrets_in(text))


@pytest.mark.parametrize(
    "text",
    [
        "data/shop.duckdb",
        "postgres://ana@db:5432/shop",
        "https://github.com/owner/repo/pull/13",
        "https://fonts.googleapis.com/css2?family=Inter:wght@400;700",
        "max_tokens=5 and sort key=order_date",
        "Basic understanding of the Token: the Secret garden",
        "x == y, n=3",
        "postgres://u:***@db/shop",
    ],
)
def test_harmless_text_is_unchanged(text):
    assert redact_text(text) == text
    assert secrets_in(text) == []


def test_secret_names():
    for name in ("pw", "db_pw", "webhook_url", "slackWebhook", "signature", "password"):
        assert redaction.is_secret_name(name), name
    for name in ("source", "monkey_count", "top_n", "show_pii", "window_days"):
        assert not redaction.is_secret_name(name), name


def test_the_secrets_of_a_command_line():
    args = ["validate", "--source", "postgres://u:hunter2@h/db", "-p", "db_pw=abc", "-p", "n=3"]
    assert redaction.secrets_of_arguments(args) == {"hunter2", "abc"}


def test_the_stream_redacts_a_secret_split_over_writes():
    out = io.StringIO()
    stream = RedactingStream(out, {"literal-secret"})
    for piece in ("error: postgres://u:hun", "ter2@h/db and literal-", "secret\nnext "):
        stream.write(piece)
    assert out.getvalue() == "error: postgres://u:***@h/db and ***\n"
    stream.write("password=hunter2")
    stream.flush()
    assert out.getvalue().endswith("next password=***")
    assert "hunter2" not in out.getvalue() and "literal-secret" not in out.getvalue()


def test_the_stream_takes_text_only_and_has_no_binary_side_door():
    stream = RedactingStream(io.StringIO())
    with pytest.raises(TypeError):
        stream.write(b"postgres://u:hunter2@h/db")  # type: ignore[arg-type]
    assert not hasattr(stream, "buffer")
    assert stream.writable() and not stream.isatty()
