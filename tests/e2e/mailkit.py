"""Fixtures and helpers of the mail tests (test_mail_*.py).

Nothing is mocked: messages are queued by the web programs, delivered by
the real usher-mailer (or `usherctl mail flush`) over real SMTP with
STARTTLS and AUTH to smtpd_server.SmtpServer, and read back from its spool
(or, with the file transport, from <outbox id>.eml files).

Fixtures defined here are found only when a test module holds them under
their names (they are not in conftest.py), e.g.

    import mailkit
    smtp, mailer = mailkit.smtp, mailkit.mailer

smtp          module-scoped Smtp: a running SMTP server requiring STARTTLS
              and AUTH (SMTP_USER / SMTP_PASSWORD); its certificate is
              smtp.cafile, its log $USHER_E2E_LOGDIR/smtpd-*.log.
mailer        module-scoped Mailer delivering to `smtp` (see mailer_env()),
              stopped when the module ends (SIGTERM; exit 0 and a log free
              of sanitizer reports asserted).
start_smtp    factory: start_smtp(**SmtpServer options) -> running Smtp;
              every one stopped after the test.
start_mailer  factory: start_mailer(smtp_or_None, name="mailer",
              **settings) -> running Mailer (settings by config key:
              mail_max_attempts=3); every one stopped after the test, as
              above.

Mailers log (JSON lines) to $USHER_E2E_LOGDIR/<name>-<pid>-<n>.log, where
tests/run scans for sanitizer reports; usherctl and plain-CGI runs made here
append their stderr to usherctl-<pid>.log and cgi-<pid>.log there.

Helpers: wait_mail(smtp, recipient, count, timeout) -> [Mail];
link_from(mail); outbox_rows(db, addr, kind); delivered(db, smtp, addr,
kind) -> (row, Mail) once the outbox says sent (so the link's token is
committed); check_mail(...) checks one message against the outbox row, the
installed templates, the token's digest and TTL, and the addresses;
check_page(...) checks a page; flush_file(...) runs one `usherctl mail
flush` into a spool folder.

The outbox is shared by the whole run (every registration queues a
message), so a mailer started here also delivers other tests' mail: select
messages by the unique addresses a test made.
"""

import email
import email.header
import email.policy
import hashlib
import html
import html.parser
import itertools
import json
import os
import re
import secrets
import signal
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from helpers import parse_cgi
from smtpd_server import SmtpServer

ENV = os.environ

SMTP_USER = "usher-mailer"
SMTP_PASSWORD = "Smtp-" + secrets.token_urlsafe(12)

# The mailers started here are told a sender, a reply address and a site
# name with characters that need care in headers and HTML.
MAIL_FROM_NAME = "Ушер «Тест»"
MAIL_FROM_ADDR = "no-reply@usher.test"
MAIL_FROM = "%s <%s>" % (MAIL_FROM_NAME, MAIL_FROM_ADDR)
REPLY_TO_NAME = 'Support, "Usher" Team'
REPLY_TO_ADDR = "support@usher.test"
REPLY_TO = '"Support, \\"Usher\\" Team" <%s>' % REPLY_TO_ADDR
MAILER_SITE_NAME = 'Ушер & <Co> "Test"'

KINDS = ("verify_email", "password_reset", "password_changed",
         "username_reminder", "email_change_confirm", "email_change_notice",
         "notification")
LOCALES = ("en", "uk", "ru")
# Kind -> (action_tokens.purpose, link path, TTL config key, TTL default).
LINKED = {
    "verify_email": ("verify_email", "/v1/auth/verify-email", "VERIFY_TTL",
                     24 * 3600),
    "email_change_confirm": ("email_change", "/v1/auth/verify-email",
                             "EMAIL_CHANGE_TTL", 24 * 3600),
    "password_reset": ("password_reset", "/v1/auth/password/reset",
                       "RESET_TTL", 30 * 60),
}
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
LINK_RE = re.compile(r"https?://[^\s\"'<>]+\?token=[A-Za-z0-9_%.~-]+")
SANITIZER_RE = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|"
    r"SUMMARY: \w+Sanitizer|==\d+==ERROR")


# ----------------------------------------------------------- environment

def _env(name, default=None):
    v = ENV.get(name)
    return v if v else default


def logdir():
    """Where mailer and SMTP server logs go ($USHER_E2E_LOGDIR)."""
    d = _env("USHER_E2E_LOGDIR")
    if d is None:
        d = os.path.join(tempfile.gettempdir(), "usher-e2e-mail-logs")
    os.makedirs(d, exist_ok=True)
    return d


_seq = itertools.count(1)
_seq_lock = threading.Lock()


def log_path(name):
    """A new <name>-<pid>-<n>.log in logdir()."""
    with _seq_lock:
        n = next(_seq)
    return os.path.join(logdir(), "%s-%d-%d.log" % (name, os.getpid(), n))


def mailer_path():
    p = _env("USHER_E2E_MAILER")
    if p is None:
        p = os.path.join(_env("USHER_E2E_PREFIX", "/usr/local"), "sbin",
                         "usher-mailer")
    return p


def templates_dir(config_env):
    d = config_env.get("USHER_TEMPLATES_DIR")
    if d:
        return d
    return os.path.join(_env("USHER_E2E_PREFIX", "/usr/local"), "share",
                        "usher", "templates")


def cfg_int(config_env, key, default):
    """An integer setting (KEY without the USHER_ prefix)."""
    v = config_env.get("USHER_" + key)
    return int(v) if v not in (None, "") else default


def cfg_rate(config_env, key, default):
    """A rate setting "N/SECONDS" as (N, SECONDS)."""
    v = config_env.get("USHER_" + key) or default
    n, secs = v.split("/")
    return int(n), int(secs)


def public_url(config_env):
    return config_env["USHER_PUBLIC_URL"].rstrip("/")


def site_name(config_env):
    return config_env.get("USHER_SITE_NAME") or "usher"


def sanitizer_lines(text):
    return [l for l in text.splitlines() if SANITIZER_RE.search(l)]


def unique_addr(tag=None):
    return "mail-%s@example.test" % (tag or uuid.uuid4().hex)


def clean_env(config_env, overrides=None):
    """The environment of a usher program: config_env (+ overrides) and
    nothing of ours (usher refuses unknown USHER_* variables)."""
    env = {k: v for k, v in ENV.items() if not k.startswith("USHER_")}
    env.update(config_env)
    for k, v in (overrides or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


# ------------------------------------------------------------------ mail

class Mail:
    """One received message, parsed with policy=email.policy.default."""

    def __init__(self, path, raw, envelope=None):
        self.path = path
        self.raw = raw
        self.envelope = envelope
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)

    def __repr__(self):
        return "<Mail %s to %s: %r>" % (os.path.basename(self.path),
                                        self.msg.get("To"),
                                        self.msg.get("Subject"))

    @property
    def message_id(self):
        v = self.msg.get("Message-ID")
        return str(v).strip() if v is not None else None

    @property
    def subject(self):
        return str(self.msg["Subject"])

    def _part(self, subtype):
        found = [p for p in self.msg.walk()
                 if p.get_content_type() == "text/" + subtype]
        assert len(found) == 1, "%d text/%s parts in %r" % (
            len(found), subtype, self)
        return found[0]

    @property
    def text(self):
        return self._part("plain").get_content().replace("\r\n", "\n")

    @property
    def html(self):
        return self._part("html").get_content().replace("\r\n", "\n")

    @property
    def links(self):
        return LINK_RE.findall(self.text)

    @property
    def link(self):
        links = sorted(set(self.links))
        assert len(links) == 1, "expected one link in %r: %r" % (self, links)
        return links[0]

    @property
    def token(self):
        return self.link.split("?token=", 1)[1]


class Smtp:
    """smtpd_server.SmtpServer with STARTTLS and AUTH, its log in logdir()
    and parsed, cached access to what arrived."""

    def __init__(self, root, **options):
        options.setdefault("user", SMTP_USER)
        options.setdefault("password", SMTP_PASSWORD)
        self.server = SmtpServer(os.path.join(root, "spool"),
                                 certdir=os.path.join(root, "cert"),
                                 **options)
        # SmtpServer.start() opens self.logfile: put it where the harness
        # scans logs.
        self.server.logfile = log_path("smtpd")
        self.logfile = self.server.logfile
        self._cache = {}
        self._lock = threading.Lock()

    @property
    def port(self):
        return self.server.port

    @property
    def cafile(self):
        return self.server.cafile

    @property
    def spool(self):
        return self.server.spool

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop()

    def url(self):
        assert self.port, "start the server once to pick its port"
        return "smtp://127.0.0.1:%d" % self.port

    def mails(self, recipient=None):
        """Every message received (oldest first), or those whose envelope
        names recipient (case-insensitively)."""
        with self._lock:
            out = []
            for m in self.server.messages():
                path = m["path"]
                mail = self._cache.get(path)
                if mail is None:
                    mail = Mail(path, m["raw"], m["envelope"])
                    self._cache[path] = mail
                out.append(mail)
        if recipient is not None:
            r = recipient.lower()
            out = [m for m in out
                   if r in [a.lower() for a in m.envelope["rcpt_tos"]]]
        return out

    def wait(self, recipient, count=1, timeout=30.0):
        """The messages to recipient once there are at least count."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.mails(recipient)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(
                    "%d message(s) to %s within %gs, expected %d: %r"
                    % (len(found), recipient, timeout, count, found))
            time.sleep(0.05)

    def wait_id(self, message_id, timeout=30.0):
        """The one message with this Message-ID."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.mails() if m.message_id == message_id]
            if found:
                assert len(found) == 1, \
                    "message %s arrived %d times" % (message_id, len(found))
                return found[0]
            if time.monotonic() >= deadline:
                raise AssertionError("message %s did not arrive within %gs"
                                     % (message_id, timeout))
            time.sleep(0.05)


def wait_mail(smtp, recipient, count=1, timeout=30.0):
    """The parsed messages to recipient (Mail objects, oldest first) once
    at least count arrived."""
    return smtp.wait(recipient, count=count, timeout=timeout)


def link_from(mail):
    """The one link of a message (its text part)."""
    return mail.link


def mailer_env(smtp=None, **overrides):
    """USHER_* overrides for a mailer: SMTP to `smtp` (STARTTLS, AUTH,
    its certificate), fast retries and polling, our sender and site name.
    Keywords are further settings by config key (mail_max_attempts=3 ->
    USHER_MAIL_MAX_ATTEMPTS=3; None removes one)."""
    env = {
        "USHER_MAIL_RETRY_BASE": "1",
        "USHER_MAIL_MAX_ATTEMPTS": "10",
        "USHER_MAIL_POLL_INTERVAL": "1",
        "USHER_MAIL_BATCH": "32",
        "USHER_MAIL_FROM": MAIL_FROM,
        "USHER_MAIL_REPLY_TO": REPLY_TO,
        "USHER_SITE_NAME": MAILER_SITE_NAME,
        "USHER_LOG_LEVEL": "info",
    }
    if smtp is not None:
        env.update({
            "USHER_MAIL_TRANSPORT": "smtp",
            "USHER_SMTP_URL": smtp.url(),
            "USHER_SMTP_USER": SMTP_USER,
            "USHER_SMTP_PASSWORD": SMTP_PASSWORD,
            "USHER_SMTP_CA_FILE": smtp.cafile,
            "USHER_SMTP_TIMEOUT": "10",
        })
    for k, v in overrides.items():
        key = k if k.startswith("USHER_") else "USHER_" + k.upper()
        env[key] = None if v is None else str(v)
    return env


class Mailer:
    """One usher-mailer daemon, its stdout and stderr in logdir()."""

    def __init__(self, config_env, overrides=None, name="mailer"):
        self.env = clean_env(config_env, overrides)
        self.logfile = log_path(name)
        self.proc = None
        self._log = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def log_text(self):
        with open(self.logfile, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_records(self):
        """The JSON log lines (others, e.g. sanitizer text, skipped)."""
        out = []
        for line in self.log_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def start(self, timeout=15.0):
        assert self.proc is None, "mailer already running"
        self._log = open(self.logfile, "ab")
        self.proc = subprocess.Popen([mailer_path()], env=self.env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log,
                                     cwd="/")
        deadline = time.monotonic() + timeout
        while "delivering by" not in self.log_text():
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self._close()
                raise AssertionError("usher-mailer exited %d at start:\n%s"
                                     % (rc, self.log_text()[-3000:]))
            if time.monotonic() >= deadline:
                self.kill()
                raise AssertionError("usher-mailer not ready in %gs:\n%s"
                                     % (timeout, self.log_text()[-3000:]))
            time.sleep(0.02)
        return self

    def _close(self):
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self):
        """SIGKILL, for cleanups after a failure."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._close()

    def signal(self, signum):
        self.proc.send_signal(signum)

    def stop(self, timeout=5.0):
        """SIGTERM; asserts exit status 0 within timeout and no sanitizer
        report in the log. Returns the seconds it took."""
        if self.proc is None:
            return 0.0
        proc = self.proc
        if proc.poll() is not None:
            rc = proc.returncode
            self._close()
            raise AssertionError("usher-mailer had already exited (%d):\n%s"
                                 % (rc, self.log_text()[-3000:]))
        t0 = time.monotonic()
        proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("usher-mailer did not exit within %gs of "
                                 "SIGTERM:\n%s" % (timeout,
                                                   self.log_text()[-3000:]))
        elapsed = time.monotonic() - t0
        self._close()
        log = self.log_text()
        assert rc == 0, "usher-mailer exit %d after SIGTERM:\n%s" % (
            rc, log[-3000:])
        bad = sanitizer_lines(log)
        assert not bad, "sanitizer report in %s: %s" % (self.logfile, bad)
        return elapsed

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if exc[0] is not None:
            self.kill()
        else:
            self.stop()


# -------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def smtp(tmp_path_factory):
    s = Smtp(str(tmp_path_factory.mktemp("smtp"))).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def mailer(smtp, _config_env):
    m = Mailer(_config_env, mailer_env(smtp)).start()
    yield m
    m.stop()


@pytest.fixture
def start_smtp(tmp_path):
    servers = []

    def start(**options):
        s = Smtp(str(tmp_path / ("smtp%d" % len(servers))), **options)
        servers.append(s)
        return s.start()
    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def start_mailer(_config_env):
    mailers = []

    def start(smtp=None, name="mailer", **overrides):
        m = Mailer(_config_env, mailer_env(smtp, **overrides), name=name)
        mailers.append(m)
        return m.start()
    yield start
    errors = []
    for m in mailers:
        try:
            m.stop()
        except AssertionError as e:
            errors.append(str(e))
        finally:
            m.kill()
    assert not errors, "\n".join(errors)


# ---------------------------------------------------------------- outbox

OUTBOX_COLS = ("id", "kind", "to_addr", "user_id", "status", "attempts",
               "last_error", "locale", "message_id", "vars", "created_at",
               "changed_at", "sent_at")
_OUTBOX_SELECT = (
    "SELECT id, kind, to_addr, user_id, status, attempts, last_error, "
    "locale, message_id, vars::text, created_at::text, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'), "
    "sent_at::text FROM mail_outbox ")


def _row(t):
    r = dict(zip(OUTBOX_COLS, t))
    r["id"] = int(r["id"])
    r["attempts"] = int(r["attempts"])
    r["vars"] = json.loads(r["vars"])
    return r


def outbox_rows(db, addr, kind=None):
    """Outbox rows to addr (case-insensitive), oldest first."""
    if kind is None:
        rows = db.query(_OUTBOX_SELECT + "WHERE lower(to_addr) = lower($1) "
                        "ORDER BY id", addr)
    else:
        rows = db.query(_OUTBOX_SELECT + "WHERE lower(to_addr) = lower($1) "
                        "AND kind = $2 ORDER BY id", addr, kind)
    return [_row(t) for t in rows]


def outbox_rows_for(db, addrs, kind=None):
    """{address (lower case): [rows, oldest first]} for many addresses,
    in one query."""
    lit = "{%s}" % ",".join('"%s"' % a.lower().replace("\\", "\\\\")
                            .replace('"', '\\"') for a in addrs)
    rows = db.query(_OUTBOX_SELECT + "WHERE lower(to_addr) = ANY($1::text[]) "
                    "AND ($2::text IS NULL OR kind = $2) ORDER BY id",
                    lit, kind)
    out = {a.lower(): [] for a in addrs}
    for t in rows:
        r = _row(t)
        out[r["to_addr"].lower()].append(r)
    return out


def outbox_row(db, row_id):
    rows = db.query(_OUTBOX_SELECT + "WHERE id = $1::bigint", row_id)
    assert rows, "no outbox row %s" % row_id
    return _row(rows[0])


def outbox_count_like(db, text):
    """Outbox rows whose recipient contains text (case-insensitive)."""
    return int(db.query("SELECT count(*) FROM mail_outbox WHERE "
                        "strpos(lower(to_addr), lower($1)) > 0", text)[0][0])


def outbox_max_id(db):
    return int(db.query("SELECT coalesce(max(id), 0) FROM mail_outbox")[0][0])


def wait_row(db, addr, kind, after_id=0, done=True, timeout=30.0,
             pred=None):
    """The first outbox row to addr of kind with id > after_id that is
    done (not pending any more) or satisfies pred(row)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [r for r in outbox_rows(db, addr, kind) if r["id"] > after_id]
        for r in rows:
            if pred is not None and pred(r):
                return r
            if pred is None and (not done or r["status"] != "pending"):
                return r
        if time.monotonic() >= deadline:
            raise AssertionError("no %s row to %s (after id %d) within %gs: "
                                 "%r" % (kind, addr, after_id, timeout, rows))
        time.sleep(0.1)


def wait_status(db, row_id, statuses, timeout=30.0):
    statuses = {statuses} if isinstance(statuses, str) else set(statuses)
    deadline = time.monotonic() + timeout
    while True:
        r = outbox_row(db, row_id)
        if r["status"] in statuses:
            return r
        if time.monotonic() >= deadline:
            raise AssertionError("outbox row %d not %s within %gs: %r"
                                 % (row_id, sorted(statuses), timeout, r))
        time.sleep(0.1)


def delivered(db, smtp, addr, kind, after_id=0, timeout=30.0):
    """(row, Mail) of the next message of kind to addr, once the outbox
    says sent (so its link token is committed) and it arrived."""
    row = wait_row(db, addr, kind, after_id=after_id, timeout=timeout)
    assert row["status"] == "sent", "not sent: %r" % row
    return row, smtp.wait_id(row["message_id"], timeout=timeout)


def clear_mail_throttle(db, addr, kind, hourly=True):
    """Let time pass for the per-recipient limit of kind for addr (our
    controllable time, for tests that need a second message within a
    minute): the limit counts the recipient's recent outbox rows, so move
    them a minute back, or an hour with hourly."""
    secs = "3601" if hourly else "61"
    db.query("UPDATE mail_outbox SET created_at = created_at - "
             "make_interval(secs => $3::int) "
             "WHERE lower(to_addr) = lower($1) AND kind = $2",
             addr, kind, secs)


def token_row(db, token):
    """The action_tokens row whose hash is SHA-256(token), or None."""
    digest = hashlib.sha256(token.encode("ascii")).hexdigest()
    rows = db.query(
        "SELECT purpose, user_id, email, mail_id::text, "
        "to_char(expires_at AT TIME ZONE 'UTC', "
        "  'YYYY-MM-DD HH24:MI \"UTC\"'), "
        "extract(epoch FROM expires_at - created_at)::bigint::text, "
        "used_at::text FROM action_tokens WHERE hash = decode($1, 'hex')",
        digest)
    if not rows:
        return None
    k = ("purpose", "user_id", "email", "mail_id", "expires_at", "ttl",
         "used_at")
    r = dict(zip(k, rows[0]))
    r["mail_id"] = int(r["mail_id"]) if r["mail_id"] else None
    r["ttl"] = int(r["ttl"])
    return r


def age_tokens(db, user_id, interval="2 days"):
    """Move the user's tokens into the past (database clock)."""
    db.query("UPDATE action_tokens SET "
             "created_at = created_at - $2::interval, "
             "expires_at = expires_at - $2::interval "
             "WHERE user_id = $1::uuid", user_id, interval)


def user_row(db, user_id):
    rows = db.query("SELECT email, email_verified::text, password_hash, "
                    "updated_at::text, status FROM users WHERE id = $1::uuid",
                    user_id)
    assert rows, "no user %s" % user_id
    return dict(zip(("email", "email_verified", "password_hash",
                     "updated_at", "status"), rows[0]))


# ------------------------------------------------------------- templates

_TEMPLATE_CACHE = {}


def template(config_env, locale, part, name):
    """Text of templates/<locale>/<part>/<name> as installed."""
    path = os.path.join(templates_dir(config_env), locale, part, name)
    t = _TEMPLATE_CACHE.get(path)
    if t is None:
        with open(path, encoding="utf-8") as f:
            t = _TEMPLATE_CACHE[path] = f.read()
    return t


def html_escape(s):
    """usher's escaping of placeholder values: & < > " '."""
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def render(text, values, escape=False):
    def sub(m):
        name = m.group(1)
        assert name in values, "no value for {{%s}}" % name
        v = values[name]
        return html_escape(v) if escape else v
    return re.sub(r"\{\{([a-z_]+)\}\}", sub, text)


def expected_mail(config_env, kind, locale, values):
    """(subject, text, html) the templates give for these values."""
    subject = template(config_env, locale, "mail", kind + ".subject")
    if subject.endswith("\n"):
        subject = subject[:-1]
    return (render(subject, values),
            render(template(config_env, locale, "mail", kind + ".txt"),
                   values),
            render(template(config_env, locale, "mail", kind + ".html"),
                   values, escape=True))


def expand_includes(config_env, text):
    """A page's {{>name.html}} lines: the shared file of the templates'
    top folder in their place, without its last line end."""
    def sub(m):
        path = os.path.join(templates_dir(config_env), m.group(1))
        with open(path, encoding="utf-8") as f:
            inc = f.read()
        assert "{{" not in inc, path
        return inc[:-1] if inc.endswith("\n") else inc
    return re.sub(r"\{\{>([a-z_]+\.html)\}\}", sub, text)


def expected_page(config_env, name, locale, values):
    text = template(config_env, locale, "page", name + ".html")
    return render(expand_includes(config_env, text), values, escape=True)


def _diff(a, b):
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return "first difference at %d:\n got: %r\nwant: %r" % (
        i, a[max(0, i - 60):i + 80], b[max(0, i - 60):i + 80])


def assert_same_text(got, want, what):
    assert got == want, "%s differs from the template; %s" % (
        what, _diff(got, want))


# --------------------------------------------------------- mail checking

def one_header(msg, name):
    values = msg.get_all(name) or []
    assert len(values) == 1, "%d %s headers: %r" % (len(values), name, values)
    return values[0]


def check_mime(mail):
    """multipart/alternative of text/plain then text/html, both UTF-8
    in base64, and the headers every message has."""
    msg = mail.msg
    assert not msg.defects, "defects: %r" % msg.defects
    assert msg.get_content_type() == "multipart/alternative", \
        msg.get_content_type()
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == \
        ["text/plain", "text/html"], [p.get_content_type() for p in parts]
    for p in parts:
        assert p.get_content_charset() == "utf-8", p.get_content_charset()
        assert p.get("Content-Transfer-Encoding", "").lower() == "base64"
        assert not p.defects, p.defects
        p.get_content()     # decodes as UTF-8
    for name in ("Date", "From", "To", "Subject", "Message-ID",
                 "MIME-Version"):
        one_header(msg, name)
    for name in ("Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"):
        assert msg.get_all(name) is None, "%s header: %r" % (
            name, msg.get_all(name))
    assert str(msg["MIME-Version"]).strip() == "1.0"
    assert str(msg["Auto-Submitted"]).strip() == "auto-generated"
    # Every header line is ASCII (non-ASCII goes in encoded words) and no
    # line is over 998 octets (RFC 5322 2.1.1).
    head = mail.raw.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")
    for line in mail.raw.split(b"\r\n"):
        assert len(line) <= 998, "line of %d octets" % len(line)
        assert b"\n" not in line and b"\r" not in line, "bare CR or LF"


def raw_headers(mail, name):
    """The unfolded raw values of header name (before any decoding)."""
    head = mail.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    head = re.sub(r"\r\n(?=[ \t])", "", head)
    out = []
    for line in head.split("\r\n"):
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            out.append(v.strip())
    return out


def phrase_text(phrase):
    """The text of an RFC 5322 display name: a quoted string, or atoms and
    RFC 2047 encoded words (the white space between two encoded words
    dropped, RFC 2047 6.2; email's header parser keeps it, so decode it
    with email.header)."""
    phrase = phrase.strip()
    if len(phrase) >= 2 and phrase[0] == '"' and phrase[-1] == '"':
        return re.sub(r"\\(.)", r"\1", phrase[1:-1])
    return str(email.header.make_header(email.header.decode_header(phrase)))


def mailbox(mail, name):
    """(display name, address) of the one mailbox in header name, from
    its raw text: 'phrase <addr>' or 'addr'."""
    values = raw_headers(mail, name)
    assert len(values) == 1, "%d %s headers" % (len(values), name)
    v = values[0]
    m = re.match(r"^(.*)<([^<>]*)>$", v)
    if m is None:
        return "", v
    return phrase_text(m.group(1)), m.group(2)


def check_addresses(mail, recipient, to_name=None, envelope=True):
    """Exactly one To address, equal to recipient; our From and Reply-To;
    the envelope's one recipient."""
    msg = mail.msg
    to = one_header(msg, "To")
    assert len(to.addresses) == 1, "To has %d addresses: %r" % (
        len(to.addresses), str(to))
    assert to.addresses[0].addr_spec.lower() == recipient.lower(), str(to)
    name, addr = mailbox(mail, "To")
    assert addr.lower() == recipient.lower(), addr
    if to_name is not None:
        assert name == to_name, "To display name %r != %r" % (name, to_name)
    for header, want_name, want_addr in (
            ("From", MAIL_FROM_NAME, MAIL_FROM_ADDR),
            ("Reply-To", REPLY_TO_NAME, REPLY_TO_ADDR)):
        h = one_header(msg, header)
        assert len(h.addresses) == 1, str(h)
        assert h.addresses[0].addr_spec == want_addr, str(h)
        assert mailbox(mail, header) == (want_name, want_addr), \
            (header, mailbox(mail, header))
    if envelope and mail.envelope is not None:
        env = mail.envelope
        assert [a.lower() for a in env["rcpt_tos"]] == [recipient.lower()], \
            "envelope recipients %r" % env["rcpt_tos"]
        assert env["mail_from"] == MAIL_FROM_ADDR, env
        assert env["tls"] is True, env
        assert env["auth_user"] == SMTP_USER, env


def check_mail(db, config_env, mail, row, recipient, locale, user_name,
               to_name=None, login=None, new_email=None, old_email=None,
               site=MAILER_SITE_NAME):
    """Checks a delivered message of row's kind against the outbox row,
    the templates of locale, the link's token in the database, and the
    addresses. Returns the link's token (None for kinds without one)."""
    kind = row["kind"]
    assert row["status"] == "sent", row
    assert row["locale"] == locale, "rendered in %r, expected %r" % (
        row["locale"], locale)
    check_mime(mail)
    check_addresses(mail, recipient, to_name)
    assert mail.message_id == row["message_id"], (mail.message_id,
                                                  row["message_id"])
    values = {"site_name": site, "user_name": user_name,
              "changed_at": row["changed_at"], "login": login,
              "new_email": new_email, "old_email": old_email}
    token = None
    if kind in LINKED:
        purpose, path, ttl_key, ttl_default = LINKED[kind]
        link = mail.link
        token = mail.token
        assert TOKEN_RE.match(token), "token %r is not 43 base64url chars" \
            % token
        assert link == public_url(config_env) + path + "?token=" + token, \
            link
        assert mail.html.count(link) >= 1, "link not in the HTML part"
        t = token_row(db, token)
        assert t is not None, "no action_tokens row with the link's digest"
        assert t["purpose"] == purpose, t
        assert t["mail_id"] == row["id"], t
        assert t["used_at"] is None, t
        assert t["ttl"] == cfg_int(config_env, ttl_key, ttl_default), \
            "token TTL %d s, config says %d" % (
                t["ttl"], cfg_int(config_env, ttl_key, ttl_default))
        assert t["user_id"] == row["user_id"] or row["user_id"] is None, t
        values["link"] = link
        values["expires_at"] = t["expires_at"]
    else:
        assert not mail.links, "unexpected link in %s: %r" % (kind,
                                                              mail.links)
    values = {k: v for k, v in values.items() if v is not None}
    subject, text, html_body = expected_mail(config_env, kind, locale, values)
    assert mail.subject == subject, "Subject %r != %r" % (mail.subject,
                                                          subject)
    if locale in ("uk", "ru"):
        assert re.search("[\u0400-\u04ff]", mail.subject), mail.subject
    assert_same_text(mail.text, text, "text part")
    assert_same_text(mail.html, html_body, "HTML part")
    assert ('lang="%s"' % locale) in mail.html
    return token


# ----------------------------------------------------------------- pages

class FormParser(html.parser.HTMLParser):
    """The <html lang>, forms (action, method) and inputs of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lang = None
        self.forms = []
        self.inputs = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "form":
            self.forms.append(a)
        elif tag == "input":
            self.inputs.append(a)
        elif tag == "script":
            self.scripts += 1


def parse_page(text):
    p = FormParser()
    p.feed(text)
    p.close()
    return p


def page_csp(config_env):
    return ("default-src 'none'; style-src 'unsafe-inline'; "
            "form-action 'self' %s; frame-ancestors 'none'; "
            "base-uri 'none'" % public_url(config_env))


def check_page(resp, status, config_env, name, locale, values=None,
               csp=None):
    """An HTML page of usher's: status, type, CSP, no-store, and the body
    the template gives. Returns the parsed page."""
    assert resp.status_code == status, "expected %d: %d %s" % (
        status, resp.status_code, resp.text[:500])
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "text/html", ctype
    assert "charset=utf-8" in ctype.lower().replace(" ", ""), ctype
    assert resp.headers.get("Content-Security-Policy") == \
        (csp or page_csp(config_env)), resp.headers.get(
            "Content-Security-Policy")
    assert "no-store" in resp.headers.get("Cache-Control", ""), \
        resp.headers.get("Cache-Control")
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"
    body = resp.content.decode("utf-8")
    v = {"site_name": site_name(config_env)}
    v.update(values or {})
    assert_same_text(body, expected_page(config_env, name, locale, v),
                     "page %s/%s" % (locale, name))
    page = parse_page(body)
    assert page.lang == locale, page.lang
    assert page.scripts == 0, "script in a page"
    return page


# --------------------------------------------------------------- usherctl

def run_usherctl(config_env, *args, env=None, input=None, timeout=120,
                 text=True):
    """usherctl with config_env (+ env), its stderr appended to a log in
    logdir() (scanned for sanitizer reports). text=False: stdout and
    stderr as bytes, line ends untouched."""
    exe = _env("USHER_E2E_USHERCTL") or os.path.join(
        _env("USHER_E2E_PREFIX", "/usr/local"), "sbin", "usherctl")
    p = subprocess.run([exe] + [str(a) for a in args],
                       env=clean_env(config_env, env), input=input,
                       capture_output=True, text=text, timeout=timeout)
    if p.stderr:
        with open(os.path.join(logdir(), "usherctl-%d.log" % os.getpid()),
                  "a" if text else "ab") as f:
            f.write(p.stderr)
    return p


def file_env(spool, **more):
    env = {"USHER_MAIL_TRANSPORT": "file", "USHER_MAIL_SPOOL": spool}
    env.update(more)
    return env


def flush_file(config_env, spool, **more):
    """One `usherctl --json mail flush` into spool (file transport);
    returns its counts."""
    os.makedirs(spool, exist_ok=True)
    p = run_usherctl(config_env, "--json", "mail", "flush",
                     env=file_env(spool, **more))
    assert p.returncode == 0, "mail flush exit %d: %s %s" % (
        p.returncode, p.stdout, p.stderr)
    out = json.loads(p.stdout)
    assert set(out) == {"sent", "retry", "failed", "skipped"}, out
    return out


def spool_mail(spool, row_id):
    path = os.path.join(spool, "%d.eml" % row_id)
    with open(path, "rb") as f:
        return Mail(path, f.read())


def file_delivered(db, config_env, spool, addr, kind, after_id=0):
    """(row, Mail) of the newest message of kind to addr after one flush
    into spool."""
    flush_file(config_env, spool)
    rows = [r for r in outbox_rows(db, addr, kind) if r["id"] > after_id]
    assert rows, "no %s row to %s" % (kind, addr)
    row = rows[-1]
    assert row["status"] == "sent", row
    return row, spool_mail(spool, row["id"])


# ---------------------------------------------------------------- CGI

def run_cgi(cgi_bin, config_env, program, method, uri, body=b"",
            headers=None, overrides=None, ip="127.0.0.1"):
    """A program run as plain CGI with config_env (+ overrides);
    (status, headers with lower-case names, body bytes). Its stderr is
    appended to a log in logdir()."""
    env = clean_env(config_env, overrides)
    env.update({
        "GATEWAY_INTERFACE": "CGI/1.1",
        "REQUEST_METHOD": method,
        "REQUEST_URI": uri,
        "SCRIPT_NAME": uri.split("?")[0],
        "QUERY_STRING": uri.split("?", 1)[1] if "?" in uri else "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": ip,
    })
    if body:
        env["CONTENT_LENGTH"] = str(len(body))
    for k, v in (headers or {}).items():
        env[k] = v
    p = subprocess.run([os.path.join(cgi_bin, program)], env=env, input=body,
                       capture_output=True, timeout=60)
    if p.stderr:
        with open(os.path.join(logdir(), "cgi-%d.log" % os.getpid()),
                  "ab") as f:
            f.write(p.stderr)
    assert p.returncode == 0, "CGI exit %d: %s" % (
        p.returncode, p.stderr.decode(errors="replace")[-2000:])
    return parse_cgi(p.stdout)
