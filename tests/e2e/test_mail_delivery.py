"""usher-mailer as a daemon: outages and retries, permanent and temporary
refusals, two workers at once, TLS and AUTH, SIGTERM.

Every test starts its own SMTP server(s) and mailer(s) (mailkit's
start_smtp and start_mailer) and stops them at its end; nothing else
delivers meanwhile, but the mailers also deliver whatever other tests left
pending, so every check selects the addresses this test made."""

import concurrent.futures
import json
import signal
import socket
import time

import mailkit
from helpers import describe, marker
from mailkit import (SMTP_PASSWORD, check_mail, delivered, outbox_row,
                     outbox_rows, outbox_rows_for, run_usherctl, token_row,
                     wait_row, wait_status)

# Per-test SMTP servers and mailers (fixtures are found by name here).
start_smtp, start_mailer = mailkit.start_smtp, mailkit.start_mailer


def register_many(new_user, n, workers=8, **fields):
    """n new users (registration must answer 201 each: new_user checks)."""
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        return list(ex.map(lambda i: new_user(**fields), range(n)))


def first_rows(db, users, kind="verify_email"):
    """{email: its one row of kind} for the users."""
    found = outbox_rows_for(db, [u["email"] for u in users], kind)
    rows = {}
    for u in users:
        r = found[u["email"].lower()]
        assert len(r) == 1, (u["email"], r)
        rows[u["email"]] = r[0]
    return rows


def wait_all(db, users, pred, timeout, what, kind="verify_email"):
    """Polls the users' rows of kind until pred(row) holds for all."""
    deadline = time.monotonic() + timeout
    while True:
        rows = first_rows(db, users, kind)
        bad = [r for r in rows.values() if not pred(r)]
        if not bad:
            return rows
        if time.monotonic() >= deadline:
            raise AssertionError("%d of %d rows not %s within %gs, e.g. %r"
                                 % (len(bad), len(rows), what, timeout,
                                    bad[:3]))
        time.sleep(0.2)


def assert_each_once(smtp, users, rows=None):
    for u in users:
        got = smtp.mails(u["email"])
        assert len(got) == 1, "%d messages to %s" % (len(got), u["email"])
        if rows is not None:
            assert got[0].message_id == rows[u["email"]]["message_id"]


# ------------------------------------------------------------- SIGTERM

def test_sigterm_exits_0_promptly_while_idle(new_user, db, start_smtp,
                                             start_mailer, config_env):
    smtp = start_smtp()
    # A long poll: SIGTERM must end the wait, not the timer.
    m = start_mailer(smtp, mail_poll_interval=300)
    u = new_user()
    row, mail = delivered(db, smtp, u["email"], "verify_email")
    check_mail(db, config_env, mail, row, u["email"], "en",
               user_name=u["username"])
    # the round is over (it logs what it did), then it waits
    deadline = time.monotonic() + 10
    while not any(r["msg"].startswith("sent ") for r in m.log_records()):
        assert time.monotonic() < deadline, m.log_text()
        time.sleep(0.05)
    elapsed = m.stop()  # asserts exit 0 and no sanitizer report
    assert elapsed < 5, "took %.1fs to stop" % elapsed
    records = m.log_records()
    assert records and len(records) == len(m.log_text().splitlines()), \
        "every log line is one JSON object"
    for rec in records:
        assert rec["prog"] == "usher-mailer" and rec["level"] in (
            "debug", "info", "warn", "error"), rec
        assert "ts" in rec and "msg" in rec, rec
    assert records[-1]["msg"] == "stopping", records[-1]
    log = m.log_text()
    assert SMTP_PASSWORD not in log
    assert mail.token not in log, "a link token in the log"


def test_sigterm_finishes_the_batch(new_user, db, start_smtp, start_mailer):
    """SIGTERM while a batch is being delivered: the batch is finished
    (every message of it sent once and marked so), then exit 0."""
    smtp = start_smtp()
    users = register_many(new_user, 12)
    m = start_mailer(smtp, mail_batch=500)
    smtp.wait(users[0]["email"], timeout=30)
    m.stop()
    for u in users:
        [row] = outbox_rows(db, u["email"], "verify_email")
        assert row["status"] == "sent", row
        assert len(smtp.mails(u["email"])) == 1, u["email"]


# -------------------------------------------------------- outage, retries

def test_outage_then_every_message_once(new_user, db, start_smtp,
                                        start_mailer):
    smtp = start_smtp()
    smtp.stop()         # the port is kept: nothing listens there now
    start_mailer(smtp, mail_max_attempts=50, mail_retry_base=1)
    users = register_many(new_user, 50)
    assert len({u["email"] for u in users}) == 50

    # Tried and refused (connection), left pending.
    rows = wait_all(db, users, lambda r: r["attempts"] >= 1, 30,
                    "tried once")
    for r in rows.values():
        assert r["status"] == "pending", r
        assert r["last_error"], r
        assert "connect" in r["last_error"].lower(), r
    assert smtp.mails() == []

    smtp.start()        # the same port
    t0 = time.monotonic()
    rows = wait_all(db, users, lambda r: r["status"] == "sent", 60, "sent")
    took = time.monotonic() - t0
    for u in users:
        smtp.wait(u["email"], timeout=10)
    assert_each_once(smtp, users, rows)
    # refused at least once, then sent once
    assert all(r["attempts"] >= 2 for r in rows.values()), rows
    assert took < 60


def test_permanent_550_fails_at_once(new_user, db, start_smtp,
                                     start_mailer, config_env):
    tag = marker()
    smtp = start_smtp(reject_rcpt_regex=tag, fail_code=550)
    m = start_mailer(smtp, mail_max_attempts=5)
    bad = new_user(email="%s@example.test" % tag)
    good = new_user()
    row = wait_row(db, bad["email"], "verify_email")
    assert row["status"] == "failed", row
    assert row["attempts"] == 1, row
    # the server's reply is the reason
    assert "550 5.1.1 rejected by test server" in row["last_error"], row
    assert row["sent_at"] is None
    delivered(db, smtp, good["email"], "verify_email")
    assert smtp.mails(bad["email"]) == []

    # usherctl shows it; a retry queues it again, and it fails again
    m.stop()
    p = run_usherctl(config_env, "mail", "show", row["id"])
    assert p.returncode == 0, p.stderr
    shown = json.loads(p.stdout)
    assert shown["status"] == "failed" and shown["attempts"] == 1, shown
    assert shown["last_error"] == row["last_error"], shown
    assert shown["message_id"] == row["message_id"], shown
    p = run_usherctl(config_env, "mail", "retry", row["id"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "requeued 1 message(s)", p.stdout
    requeued = outbox_row(db, row["id"])
    assert (requeued["status"], requeued["attempts"],
            requeued["last_error"]) == ("pending", 0, None), requeued
    start_mailer(smtp, mail_max_attempts=5)
    again = wait_status(db, row["id"], "failed")
    assert again["attempts"] == 1, again
    assert again["message_id"] == row["message_id"]
    assert "550 5.1.1 rejected by test server" in again["last_error"], again
    assert smtp.mails(bad["email"]) == []


def test_temporary_451_retried_then_failed(new_user, db, start_smtp,
                                           start_mailer):
    tag = marker()
    smtp = start_smtp(reject_rcpt_regex=tag, fail_code=451)
    start_mailer(smtp, mail_max_attempts=3, mail_retry_base=1)
    u = new_user(email="%s@example.test" % tag)
    row_id = outbox_rows(db, u["email"], "verify_email")[0]["id"]
    seen = []
    first_try = None
    deadline = time.monotonic() + 30
    while True:
        r = outbox_row(db, row_id)
        state = (r["status"], r["attempts"])
        if not seen or seen[-1] != state:
            seen.append(state)
            if state == ("pending", 1):
                first_try = time.monotonic()
        if r["status"] != "pending" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r["status"] == "failed", (r, seen)
    assert r["attempts"] == 3, (r, seen)
    assert "451 4.1.1 rejected by test server" in r["last_error"], r
    assert ("pending", 1) in seen and ("pending", 2) in seen, seen
    assert [a for _, a in seen] == sorted(a for _, a in seen), seen
    # backoff: 1 s after the first attempt, 2 s after the second
    assert first_try is not None
    assert time.monotonic() - first_try >= 2.0, seen
    assert smtp.mails(u["email"]) == []


# ------------------------------------------------------- TLS, AUTH

def test_wrong_smtp_password_is_temporary(new_user, db, start_smtp,
                                          start_mailer):
    smtp = start_smtp()
    m = start_mailer(smtp, smtp_password="not-" + SMTP_PASSWORD)
    u = new_user()
    row = wait_row(db, u["email"], "verify_email",
                   pred=lambda r: r["attempts"] >= 1)
    assert row["status"] == "pending", row
    assert row["last_error"].startswith("535"), row
    assert smtp.mails(u["email"]) == []
    m.stop()
    assert SMTP_PASSWORD not in m.log_text()
    # the right password delivers it
    start_mailer(smtp)
    delivered(db, smtp, u["email"], "verify_email", timeout=30)


def test_untrusted_certificate_is_refused(new_user, db, start_smtp,
                                          start_mailer):
    smtp = start_smtp()
    other = start_smtp()        # its own self-signed certificate
    m = start_mailer(smtp, smtp_ca_file=other.cafile)
    u = new_user()
    row = wait_row(db, u["email"], "verify_email",
                   pred=lambda r: r["attempts"] >= 1)
    # a TLS failure is the transport's: temporary, retried
    assert row["status"] == "pending", row
    assert row["last_error"].startswith("STARTTLS"), row
    assert "certificate" in row["last_error"], row
    assert smtp.mails(u["email"]) == []
    m.stop()
    start_mailer(smtp)
    delivered(db, smtp, u["email"], "verify_email", timeout=30)


def test_server_without_starttls_gets_nothing(new_user, db, start_mailer):
    """TLS is required: a server that offers no STARTTLS is told nothing
    (not the AUTH credentials, not the message)."""
    from aiosmtpd.controller import Controller

    seen = []

    class Handler:
        async def handle_EHLO(self, server, session, envelope, hostname,
                              responses):
            session.host_name = hostname
            return responses

        async def handle_MAIL(self, server, session, envelope, address,
                              options):
            seen.append(("MAIL", address))
            envelope.mail_from = address
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            seen.append(("DATA", envelope.rcpt_tos))
            return "250 OK"

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    plain = Controller(Handler(), hostname="127.0.0.1", port=port)
    plain.start()
    try:
        m = start_mailer(None, mail_transport="smtp",
                         smtp_url="smtp://127.0.0.1:%d" % port,
                         smtp_user="u", smtp_password=SMTP_PASSWORD)
        u = new_user()
        row = wait_row(db, u["email"], "verify_email",
                       pred=lambda r: r["attempts"] >= 1)
        m.stop()
    finally:
        plain.stop()
    assert row["status"] == "pending", row
    assert "STARTTLS" in row["last_error"] or "SSL" in row["last_error"], row
    assert seen == [], seen


def test_implicit_tls_smtps(new_user, db, start_smtp, start_mailer,
                            config_env):
    smtp = start_smtp(implicit_tls=True)
    start_mailer(smtp, smtp_url="smtps://127.0.0.1:%d" % smtp.port)
    u = new_user(locale="uk")
    row, mail = delivered(db, smtp, u["email"], "verify_email")
    check_mail(db, config_env, mail, row, u["email"], "uk",
               user_name=u["username"])
    assert mail.envelope["tls"] is True


# ------------------------------------------------------- two workers

def test_two_mailers_deliver_each_message_once(new_user, db, start_smtp,
                                               start_mailer):
    smtp = start_smtp()
    a = start_mailer(smtp, mail_batch=4, name="mailer-a")
    b = start_mailer(smtp, mail_batch=4, name="mailer-b")
    users = register_many(new_user, 40)
    rows = wait_all(db, users, lambda r: r["status"] == "sent", 60, "sent")
    for u in users:
        smtp.wait(u["email"], timeout=10)
    a.stop()
    b.stop()
    assert_each_once(smtp, users, rows)
    ids = [m.message_id for u in users for m in smtp.mails(u["email"])]
    assert len(set(ids)) == 40
    for r in rows.values():
        assert r["attempts"] == 1, r


# ------------------------------------------- the link works on arrival

def test_link_works_as_soon_as_the_mail_arrives(api, new_user, db,
                                                start_smtp, start_mailer):
    """A delivered message's link must work: its token has to be in the
    database before the message leaves (a quick click, or a mail scanner
    following links, comes right after delivery)."""
    smtp = start_smtp()
    users = register_many(new_user, 20)
    mine = {u["email"] for u in users}
    m = start_mailer(smtp, mail_batch=32)
    deadline = time.monotonic() + 30
    first = None
    while first is None and time.monotonic() < deadline:
        for mail in smtp.mails():
            if mail.envelope["rcpt_tos"][0] in mine:
                first = mail
                break
        else:
            time.sleep(0.002)
    assert first is not None, "nothing arrived"
    m.signal(signal.SIGSTOP)        # freeze the worker where it is
    try:
        addr = first.envelope["rcpt_tos"][0]
        row = outbox_rows(db, addr, "verify_email")[0]
        r = api.post("/v1/auth/verify-email", json={"token": first.token})
    finally:
        m.signal(signal.SIGCONT)
    assert r.status_code == 200, (
        "the link of a delivered message does not work yet (outbox row "
        "status %r, token in database: %r): %s"
        % (row["status"], token_row(db, first.token) is not None,
           describe(r)))
