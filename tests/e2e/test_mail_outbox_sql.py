"""usher_mail_enqueue, the only writer of new outbox rows, called directly
in SQL (as the programs call it): it refuses what must never reach a
header or the worker (sql/0003-mail-enqueue.sql moved those checks from
the table into it), stores nothing then, and keeps its limits.

The API validates addresses before this point (test_mail_api.py); these
cases prove the database's own guard, for any caller."""

import re
import uuid

import pytest

from mailkit import unique_addr

ENQ = "SELECT usher_mail_enqueue($1, $2, NULL, $3::jsonb, 0, $4)"


def _count(db, to):
    return int(db.query("SELECT count(*) FROM mail_outbox "
                        "WHERE lower(to_addr) = lower($1)", to)[0][0])


def _refused(db, kind, to, vars_json="{}", domain="usher.example"):
    with pytest.raises(RuntimeError) as e:
        db.query(ENQ, kind, to, vars_json, domain)
    return str(e.value)


def test_enqueue_stores_one_row_with_its_message_id(db):
    to = unique_addr()
    rows = db.query(ENQ, "password_reset", to, '{"title": "x"}',
                    "mail.usher.example")
    assert len(rows) == 1 and rows[0][0] is not None
    mid, kind, stored_to, status = db.query(
        "SELECT message_id, kind, to_addr, status FROM mail_outbox "
        "WHERE id = $1", rows[0][0])[0]
    assert (kind, stored_to, status) == ("password_reset", to, "pending")
    m = re.fullmatch(r"<([0-9a-f-]{36})@mail\.usher\.example>", mid)
    assert m, mid
    uuid.UUID(m.group(1))
    # the same recipient and kind within a minute: suppressed, not stored
    assert db.query(ENQ, "password_reset", to, "{}",
                    "mail.usher.example") == [(None,)]
    assert _count(db, to) == 1
    # another kind is its own limit
    assert db.query(ENQ, "username_reminder", to, "{}",
                    "mail.usher.example")[0][0] is not None
    assert _count(db, to) == 2


@pytest.mark.parametrize("to", [
    "a@b\r\nBcc: victim@example.com",
    "a@b\nX: y",
    "a@b\rX",
    "Name <a@b.example>",
    "a b@example.com",
    "a@b.example\t",
    "a@b.example\x7f",
    "a@b.example\x1b[0m",
    "ab",
    "a" * 250 + "@b.example",
    "",
], ids=["crlf-bcc", "lf", "cr", "angle", "space", "tab", "del", "escape",
        "too-short", "too-long", "empty"])
def test_enqueue_refuses_an_unusable_recipient(db, to):
    marker = "zz%s" % uuid.uuid4().hex[:12]
    to = to.replace("a@b", marker + "@b", 1) if "a@b" in to else to
    msg = _refused(db, "verify_email", to)
    assert "unusable recipient" in msg, msg
    if marker in to:
        assert int(db.query("SELECT count(*) FROM mail_outbox "
                            "WHERE position($1 in to_addr) > 0",
                            marker)[0][0]) == 0


def test_enqueue_refuses_a_null_recipient(db):
    with pytest.raises(RuntimeError) as e:
        db.query("SELECT usher_mail_enqueue('verify_email', NULL, NULL, "
                 "'{}', 0, 'usher.example')")
    assert "unusable recipient" in str(e.value)


@pytest.mark.parametrize("kind", [
    "nope", "VERIFY_EMAIL", "verify_email\r\n", "'; DROP TABLE users; --", "",
])
def test_enqueue_refuses_an_unknown_kind(db, kind):
    to = unique_addr()
    msg = _refused(db, kind, to)
    assert "unknown mail kind" in msg, msg
    assert _count(db, to) == 0
    assert db.query("SELECT to_regclass('users') IS NOT NULL") == [("t",)]


@pytest.mark.parametrize("vars_json", ["[]", "1", '"s"', "null", "true"])
def test_enqueue_refuses_vars_that_are_not_an_object(db, vars_json):
    to = unique_addr()
    msg = _refused(db, "notification", to, vars_json=vars_json)
    assert "vars is not an object" in msg, msg
    assert _count(db, to) == 0


@pytest.mark.parametrize("domain", [
    "usher.example>\r\nBcc: x@y", "a b", "a<b", "x@y", "", "d" * 201,
], ids=["crlf", "space", "angle", "at", "empty", "too-long"])
def test_enqueue_refuses_an_unusable_message_id_domain(db, domain):
    to = unique_addr()
    msg = _refused(db, "verify_email", to, domain=domain)
    assert "unusable Message-ID domain" in msg, msg
    assert _count(db, to) == 0
