"""usherctl mail list / show / retry / preview / flush, with the file
transport into a spool folder of each test (USHER_MAIL_TRANSPORT=file,
USHER_MAIL_SPOOL=...)."""

import json
import os
import re

import pytest

from helpers import describe
from mailkit import (KINDS, LOCALES, MAIL_FROM_ADDR, Mail, check_addresses,
                     check_mail, check_mime, expected_mail, file_env,
                     mailer_env, one_header, outbox_row, outbox_rows,
                     public_url, run_usherctl, spool_mail)

ROW_KEYS = {"id", "kind", "to", "user_id", "vars", "message_id", "status",
            "attempts", "next_attempt_at", "last_error", "locale",
            "created_at", "sent_at"}
FLUSH_RE = re.compile(r"^sent (\d+), to retry (\d+), failed (\d+), "
                      r"skipped (\d+)\n$")


def ctl(config_env, *args, **kw):
    return run_usherctl(config_env, *args, **kw)


def ok_json(p):
    assert p.returncode == 0, "exit %d: %s %s" % (p.returncode, p.stdout,
                                                   p.stderr)
    return json.loads(p.stdout)


def senv(spool, **more):
    """File transport into spool, our sender and site name."""
    env = {k: v for k, v in mailer_env().items() if v is not None}
    env.update(file_env(spool))
    env.update(more)
    return env


def flush(config_env, spool, *args, **more):
    os.makedirs(spool, exist_ok=True)
    p = ctl(config_env, "mail", "flush", *args, env=senv(spool, **more))
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    m = FLUSH_RE.match(p.stdout)
    assert m, "flush printed %r" % p.stdout
    return tuple(int(x) for x in m.groups())


def flush_json(config_env, spool, *args, **more):
    os.makedirs(spool, exist_ok=True)
    out = ok_json(ctl(config_env, "--json", "mail", "flush", *args,
                      env=senv(spool, **more)))
    assert set(out) == {"sent", "retry", "failed", "skipped"}, out
    return out


def only_eml(spool):
    names = os.listdir(spool)
    assert all(re.match(r"^\d+\.eml$", n) for n in names), \
        "left-overs in the spool: %r" % names
    return names


# ------------------------------------------------------------------ flush

def test_flush_writes_one_eml_per_message(new_user, db, config_env,
                                          tmp_path):
    spool = str(tmp_path / "spool")
    u = new_user(locale="uk", display_name="Ірина")
    sent, retry, failed, skipped = flush(config_env, spool)
    assert sent >= 1 and retry == 0 and failed == 0, (sent, retry, failed)
    [row] = outbox_rows(db, u["email"])
    assert row["status"] == "sent" and row["attempts"] == 1, row
    assert row["sent_at"] is not None
    names = only_eml(spool)
    assert "%d.eml" % row["id"] in names
    assert len(names) == sent      # one file per message sent
    mail = spool_mail(spool, row["id"])
    check_mail(db, config_env, mail, row, u["email"], "uk",
               user_name="Ірина", to_name="Ірина")
    # nothing left: a second flush sends nothing, rewrites nothing
    mtime = os.stat(mail.path).st_mtime_ns
    assert flush(config_env, spool) == (0, 0, 0, 0)
    assert os.stat(mail.path).st_mtime_ns == mtime
    assert outbox_row(db, row["id"])["attempts"] == 1


def test_flush_max(new_user, db, config_env, tmp_path):
    spool = str(tmp_path / "spool")
    flush_json(config_env, spool)                 # an empty queue first
    users = [new_user() for _ in range(3)]
    out = flush_json(config_env, spool, "--max", "1")
    assert out == {"sent": 1, "retry": 0, "failed": 0, "skipped": 0}, out
    out = flush_json(config_env, spool, "--max", "5")
    assert out == {"sent": 2, "retry": 0, "failed": 0, "skipped": 0}, out
    for u in users:
        [row] = outbox_rows(db, u["email"])
        assert row["status"] == "sent", row
        assert os.path.exists(os.path.join(spool, "%d.eml" % row["id"]))
    for bad in ("0", "-1", "x", ""):
        p = ctl(config_env, "mail", "flush", "--max", bad,
                env=senv(spool))
        assert p.returncode == 2, (bad, p.returncode, p.stderr)


def test_flush_skips_unknown_address(api, db, config_env, tmp_path):
    spool = str(tmp_path / "spool")
    addr = "nobody-%s@example.test" % os.urandom(6).hex()
    r = api.post("/v1/auth/password/forgot", json={"email": addr})
    assert r.status_code == 202, describe(r)
    out = flush_json(config_env, spool)
    assert out["skipped"] >= 1, out
    [row] = outbox_rows(db, addr)
    assert (row["status"], row["last_error"]) == ("skipped",
                                                  "no such account"), row
    assert not os.path.exists(os.path.join(spool, "%d.eml" % row["id"]))


# -------------------------------------------------------------- list, show

def test_list_and_show(new_user, db, config_env, tmp_path):
    u = new_user(locale="ru")
    [row] = outbox_rows(db, u["email"])
    items = ok_json(ctl(config_env, "--json", "mail", "list", "--limit",
                        "5"))
    assert isinstance(items, list) and 1 <= len(items) <= 5
    ids = [i["id"] for i in items]
    assert ids == sorted(ids, reverse=True), ids      # newest first
    for i in items:
        assert set(i) == ROW_KEYS, i
    [mine] = [i for i in items if i["id"] == row["id"]]
    assert mine["to"] == u["email"] and mine["kind"] == "verify_email"
    assert mine["status"] == "pending" and mine["attempts"] == 0
    assert mine["user_id"] == u["user"]["id"]
    assert mine["message_id"] == row["message_id"]
    assert mine["vars"] == {} and mine["sent_at"] is None

    shown = ok_json(ctl(config_env, "mail", "show", row["id"]))
    assert shown == mine

    # text: one tab-separated line per message
    p = ctl(config_env, "mail", "list", "--limit", "3")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert 1 <= len(lines) <= 3
    for line in lines:
        assert len(line.split("\t")) == 6, line
    assert any(line.split("\t")[1] == str(row["id"]) for line in lines)

    flush(config_env, str(tmp_path / "spool"))
    sent = ok_json(ctl(config_env, "--json", "mail", "list", "--status",
                       "sent", "--limit", "50"))
    assert sent and all(i["status"] == "sent" for i in sent)
    assert row["id"] in [i["id"] for i in sent]
    shown = ok_json(ctl(config_env, "mail", "show", str(row["id"])))
    assert shown["status"] == "sent" and shown["locale"] == "ru"
    assert shown["sent_at"] is not None
    pending = ok_json(ctl(config_env, "--json", "mail", "list", "--status",
                          "pending"))
    assert row["id"] not in [i["id"] for i in pending]


@pytest.mark.parametrize("args,code", [
    (["mail", "show", "999999999999"], 3),
    (["mail", "show", "abc"], 3),
    (["mail", "show", "-1"], 3),
    (["mail", "show", "1' OR '1'='1"], 3),
    (["mail", "show", "9" * 30], 3),
    (["mail", "show"], 2),
    (["mail", "retry", "999999999999"], 3),
    (["mail", "retry", "abc"], 3),
    (["mail", "retry"], 2),
    (["mail", "list", "--limit", "0"], 2),
    (["mail", "list", "--limit", "x"], 2),
    (["mail", "preview", "nope"], 2),
    (["mail", "preview", "verify_email", "--locale", "de"], 2),
    (["mail", "preview"], 2),
    (["mail", "bogus"], 2),
])
def test_exit_codes(config_env, args, code):
    p = ctl(config_env, *args)
    assert p.returncode == code, (args, p.returncode, p.stdout, p.stderr)
    if code == 3:
        assert p.stdout == ""


# ------------------------------------------------------------------ retry

def _block(spool, row_id):
    """Make the file transport fail for this row: its temporary file's
    name is taken by a folder (create fails, EEXIST, unlink fails)."""
    os.makedirs(os.path.join(spool, ".%d.eml.tmp" % row_id))


def _unblock(spool, row_id):
    os.rmdir(os.path.join(spool, ".%d.eml.tmp" % row_id))


def test_retry_failed_message(new_user, db, config_env, tmp_path):
    spool = str(tmp_path / "spool")
    os.makedirs(spool)
    u = new_user()
    [row] = outbox_rows(db, u["email"])
    _block(spool, row["id"])
    out = flush_json(config_env, spool, USHER_MAIL_MAX_ATTEMPTS="1")
    assert out["failed"] >= 1, out
    failed = outbox_row(db, row["id"])
    assert failed["status"] == "failed" and failed["attempts"] == 1, failed
    assert ".%d.eml.tmp" % row["id"] in failed["last_error"], failed
    assert not os.path.exists(os.path.join(spool, "%d.eml" % row["id"]))
    assert ok_json(ctl(config_env, "mail", "show", row["id"]))["status"] \
        == "failed"

    p = ctl(config_env, "mail", "retry", row["id"])
    assert p.returncode == 0, p.stderr
    assert p.stdout == "requeued 1 message(s)\n"
    again = outbox_row(db, row["id"])
    assert (again["status"], again["attempts"], again["last_error"]) == \
        ("pending", 0, None), again
    assert again["message_id"] == row["message_id"]
    # only failed messages are retried
    assert ctl(config_env, "mail", "retry", row["id"]).returncode == 3

    _unblock(spool, row["id"])
    flush_json(config_env, spool)
    done = outbox_row(db, row["id"])
    assert done["status"] == "sent" and done["attempts"] == 1, done
    mail = spool_mail(spool, row["id"])
    assert mail.message_id == row["message_id"]
    assert ctl(config_env, "mail", "retry", row["id"]).returncode == 3


def test_retry_all_failed(new_user, db, config_env, tmp_path):
    spool = str(tmp_path / "spool")
    os.makedirs(spool)
    users = [new_user() for _ in range(2)]
    rows = [outbox_rows(db, u["email"])[0] for u in users]
    for r in rows:
        _block(spool, r["id"])
    flush_json(config_env, spool, USHER_MAIL_MAX_ATTEMPTS="1")
    for r in rows:
        assert outbox_row(db, r["id"])["status"] == "failed"
    out = ok_json(ctl(config_env, "--json", "mail", "retry", "--all-failed"))
    assert out["requeued"] >= 2, out
    for r in rows:
        assert outbox_row(db, r["id"])["status"] == "pending"
        _unblock(spool, r["id"])
    flush_json(config_env, spool)
    for r in rows:
        assert outbox_row(db, r["id"])["status"] == "sent"
    out = ok_json(ctl(config_env, "--json", "mail", "retry", "--all-failed"))
    assert out == {"requeued": 0}, out


# ---------------------------------------------------------------- preview

PREVIEW_VALUES = {
    "user_name": "Олена Приклад", "expires_at": "2026-01-02 03:04 UTC",
    "changed_at": "2026-01-01 03:04 UTC", "login": "olena",
    "new_email": "new@example.com", "old_email": "old@example.com",
    "title": "A sample notice",
    "body": "First line of the notice.\nSecond line.",
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_preview(config_env, kind, locale, tmp_path):
    env = senv(str(tmp_path))
    p = ctl(config_env, "mail", "preview", kind, "--locale", locale,
            env=env, text=False)
    assert p.returncode == 0, (p.returncode, p.stderr)
    assert p.stdout.count(b"\r\n") > 10, "lines end in CRLF"
    assert b"\n" not in p.stdout.replace(b"\r\n", b""), "a bare LF"
    mail = Mail("<preview>", p.stdout)
    check_mime(mail)
    check_addresses(mail, "olena@example.com", to_name="Олена Приклад")
    domain = env["USHER_MAIL_FROM"].split("@")[-1].rstrip(">")
    assert mail.message_id == "<preview@%s>" % domain, mail.message_id
    values = dict(PREVIEW_VALUES, site_name=env["USHER_SITE_NAME"],
                  link=public_url(config_env) +
                  "/v1/auth/verify-email?token=SAMPLE-TOKEN-not-valid")
    subject, text, html = expected_mail(config_env, kind, locale, values)
    assert mail.subject == subject
    assert mail.text == text
    assert mail.html == html
    one_header(mail.msg, "Date")
    assert str(mail.msg["From"].addresses[0].addr_spec) == MAIL_FROM_ADDR


def test_preview_default_locale_is_en(config_env):
    a = ctl(config_env, "mail", "preview", "password_reset", text=False)
    b = ctl(config_env, "mail", "preview", "password_reset", "--locale",
            "en", text=False)
    assert a.returncode == b.returncode == 0
    ma, mb = Mail("a", a.stdout), Mail("b", b.stdout)
    assert ma.subject == mb.subject and ma.text == mb.text
