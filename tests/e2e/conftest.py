"""Fixtures of usher's end-to-end suite: the real stack, nothing mocked.

tests/run builds usher (ASan + UBSan), installs it under a temporary prefix,
starts a private PostgreSQL cluster, then runs this suite once behind
lighttpd and once behind Apache mod_fcgid:

    /usr/bin/python3 -m pytest -q tests/e2e

Run it through tests/run (add `-- -k NAME` there to pick tests); started
alone, the suite stops at once unless USHER_E2E_BASE is set.

Environment (set by tests/run):
    USHER_E2E_BASE       base URL of the server, http://127.0.0.1:PORT
    USHER_E2E_SERVER     "lighttpd" or "apache"
    USHER_E2E_CONFIG     usher.conf the server's programs read (USHER_CONFIG)
    USHER_E2E_PREFIX     install prefix
    USHER_E2E_CGI_BIN    PREFIX/libexec/usher/cgi-bin
    USHER_E2E_USHERCTL   PREFIX/sbin/usherctl
    USHER_E2E_PGDATA     data folder of the private cluster
    USHER_E2E_PGHOST     its socket folder
    USHER_E2E_PGPORT     its port (UNIX socket only)
    USHER_E2E_PGBIN      PostgreSQL's bin folder (pg_ctl)
    USHER_E2E_PGUSER     role the application uses (default usher)
    USHER_E2E_PGDATABASE database (default usher)
    USHER_E2E_IP_PREFIX  first two octets of client_ip addresses ("10.1")
    USHER_E2E_LOGS       the server's log files, space-separated (where the
                         programs' stderr lands)
    ASAN_OPTIONS, UBSAN_OPTIONS  passed on to usherctl and plain-CGI runs

Fixtures (names and behaviour are the interface the tests rely on):

base_url   str, e.g. "http://127.0.0.1:41234" (no trailing slash).
server     "lighttpd" or "apache".
client_ip  a fresh IPv4 address (str) for this test, unique in the run;
           api sends it as X-Forwarded-For (tests/run trusts 127.0.0.1),
           so per-address rate limits of one test do not touch another.
           Drawn from 10.<n>.0.0/16 (never 198.18.0.0/15, helpers.fresh_ip's).
api        a small HTTP client bound to base_url and client_ip:
             api.get/post/put/patch/delete/options/head(path, json=None,
                 data=None, headers=None, token=None, ip=None, **kw)
             api.request(method, path, ...same...)
           returns a requests.Response. `json=` sends JSON (requests sets
           Content-Type: application/json); `data=` sends raw bytes (a str
           is encoded as UTF-8) with no Content-Type unless `headers` has
           one. `token=` adds Authorization: Bearer <token> (a dict such
           as new_user()'s is accepted: its access_token is used).
           X-Forwarded-For is `ip`, or client_ip when ip is None; ip=False
           or "" sends none; an X-Forwarded-For in `headers` wins. Default
           timeout 30 s; redirects are not followed; other **kw go to
           requests. Thread-safe (one connection pool per thread).
           api.base_url and api.ip are the bound values.
new_user   factory: new_user(**fields) registers a random unique user with
           POST /v1/auth/register from its own fresh address and returns a
           dict: email, password, username (the values sent), user (the
           answer's user object), ip (the address used) and every other
           key of the answer (access_token, refresh_token, token_type,
           expires_in, refresh_expires_in, verification_required...).
           `fields` override the request body; a field set to None is left
           out (new_user(username=None): no username). Special keyword
           ip="a.b.c.d" picks the address. Fails the test unless 201.
login      factory: login(login, password, ip=None, **kw) -> requests.Response
           of POST /v1/auth/login {"login", "password"}; from client_ip
           unless ip is given.
db         the private cluster, as the application's role:
             db.query(sql, *params) -> list of tuples of str (NULL -> None)
                 through psql -At; $1, $2... in `sql` are the params, sent
                 as psql variables and quoted by psql (:'p1'), never
                 formatted into the text; a param is text (cast it in SQL,
                 `$1::int`, where the type matters); None becomes NULL.
                 Raises RuntimeError (with psql's message) on an SQL error.
                 One statement per call.
             db.pg_stop(), db.pg_start(), db.pg_restart(): stop (fast mode)
                 and start the cluster, waiting until done.
cgi_bin    str, the installed cgi-bin folder: run a program as plain CGI
           (build its environment from config_env, not os.environ: usher
           refuses unknown USHER_* variables such as USHER_E2E_BASE),
             env = {**config_env, "PATH": os.environ["PATH"],
                    "GATEWAY_INTERFACE": "CGI/1.1",
                    "REQUEST_METHOD": "GET", "REQUEST_URI": "/v1/health",
                    "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
                    ...}
             subprocess.run([cgi_bin + "/health"], env=env, input=b"",
                            capture_output=True, timeout=30)
usherctl   usherctl(*args, input=None, env=None, timeout=60, check=False)
           -> subprocess.CompletedProcess (text, stdout/stderr captured) of
           the installed usherctl with config_env (+ env) in its
           environment (and no other USHER_* variable: usher refuses
           unknown ones); check=True raises on a non-zero exit.
config_env dict of str: the environment the server's programs get:
           USHER_CONFIG, USHER_<KEY> for every key of that usher.conf (so
           config_env["USHER_REFRESH_GRACE"] == "3"), and ASAN_OPTIONS /
           UBSAN_OPTIONS when set. A copy per test: change it freely.

The server's usher.conf (tests/run): email_verification=no,
allow_weak_scrypt=yes with scrypt_n=1024 scrypt_r=8 scrypt_p=1,
refresh_grace=3, trusted_proxies=127.0.0.1,::1,
cors_origins=https://app.example.test, the default rate limits written out
(rate_login_ip=30/60 ...), public_url=USHER_E2E_BASE.
"""

import itertools
import os
import random
import re
import secrets
import subprocess
import threading
import uuid

import pytest
import requests

ENV = os.environ


def _env(name, default=None):
    v = ENV.get(name)
    if v is None or v == "":
        if default is None:
            pytest.exit("%s is not set: run the suite through tests/run" % name,
                        returncode=4)
        return default
    return v


def pytest_configure(config):
    if not ENV.get("USHER_E2E_BASE"):
        # Collecting only (--collect-only, --help) needs no stack.
        if not (config.option.collectonly or config.option.help):
            pytest.exit("USHER_E2E_BASE is not set: run the e2e suite "
                        "through tests/run", returncode=4)


# ------------------------------------------------------------- addresses

_ip_lock = threading.Lock()
_ip_counter = itertools.count(1)


def _ip_prefix():
    p = ENV.get("USHER_E2E_IP_PREFIX")
    if p and re.match(r"^\d{1,3}\.\d{1,3}$", p):
        return p
    global _random_prefix
    try:
        return _random_prefix
    except NameError:
        _random_prefix = "10.%d" % random.SystemRandom().randrange(100, 250)
        return _random_prefix


def _next_ip():
    with _ip_lock:
        n = next(_ip_counter)
    hi, lo = divmod(n - 1, 254)
    if hi > 255:
        raise RuntimeError("client_ip: out of addresses")
    return "%s.%d.%d" % (_ip_prefix(), hi, lo + 1)


# ------------------------------------------------------------------- api

class Api:
    """HTTP client bound to a base URL and a default client address."""

    def __init__(self, base_url, ip=None, timeout=30):
        self.base_url = base_url.rstrip("/")
        self.ip = ip
        self.timeout = timeout
        self._local = threading.local()

    def _session(self):
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.trust_env = False     # no proxies from the environment
            self._local.session = s
        return s

    def request(self, method, path, json=None, data=None, headers=None,
                token=None, ip=None, **kw):
        h = dict(headers or {})
        lower = {k.lower() for k in h}
        if token is not None and "authorization" not in lower:
            if isinstance(token, dict):
                token = token["access_token"]
            h["Authorization"] = "Bearer " + token
        if ip is None:
            ip = self.ip
        if ip and "x-forwarded-for" not in lower:
            h["X-Forwarded-For"] = ip
        if isinstance(data, str):
            data = data.encode("utf-8")
        kw.setdefault("timeout", self.timeout)
        kw.setdefault("allow_redirects", False)
        url = path if path.startswith(("http://", "https://")) \
            else self.base_url + path
        return self._session().request(method, url, json=json, data=data,
                                       headers=h, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def options(self, path, **kw):
        return self.request("OPTIONS", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def close(self):
        s = getattr(self._local, "session", None)
        if s is not None:
            s.close()


# -------------------------------------------------------------------- db

_NULL = "\x1d"          # psql's text for NULL (group separator)
_FS = "\x1f"            # field separator (unit separator)
_RS = "\x1e"            # record separator


class Db:
    """The private PostgreSQL cluster, through psql."""

    def __init__(self):
        self.host = _env("USHER_E2E_PGHOST")
        self.port = _env("USHER_E2E_PGPORT", "5432")
        self.user = _env("USHER_E2E_PGUSER", "usher")
        self.database = _env("USHER_E2E_PGDATABASE", "usher")
        self.pgdata = _env("USHER_E2E_PGDATA")
        self.pgbin = _env("USHER_E2E_PGBIN")

    def query(self, sql, *params):
        args = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-F", _FS, "-R", _RS, "-P", "null=" + _NULL, "-P", "pager=off",
                "-h", self.host, "-p", str(self.port), "-U", self.user,
                "-d", self.database]
        nulls = set()
        for i, v in enumerate(params, 1):
            if v is None:
                nulls.add(i)
                continue
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, bytes):
                v = v.decode("utf-8")
            else:
                v = str(v)
            if "\0" in v:
                raise ValueError("db.query: NUL in parameter %d" % i)
            args += ["-v", "p%d=%s" % (i, v)]

        def sub(m):
            i = int(m.group(1))
            if i < 1 or i > len(params):
                raise ValueError("db.query: $%d without a parameter" % i)
            return "NULL" if i in nulls else ":'p%d'" % i
        text = re.sub(r"\$(\d+)", sub, sql)
        if not text.rstrip().endswith(";"):
            text += ";"
        p = subprocess.run(args, input=text + "\n", capture_output=True,
                           text=True, encoding="utf-8", timeout=60,
                           env=dict(ENV, PGCONNECT_TIMEOUT="10"))
        if p.returncode != 0:
            raise RuntimeError("db.query failed (%d): %s\nSQL: %s" % (
                p.returncode, p.stderr.strip(), sql))
        out = p.stdout
        if out.endswith("\n"):
            out = out[:-1]
        if out == "":
            return []
        rows = []
        for rec in out.split(_RS):
            rows.append(tuple(None if f == _NULL else f
                              for f in rec.split(_FS)))
        return rows

    def _pg_ctl(self, *args):
        cmd = ["runuser", "-u", "postgres", "--",
               os.path.join(self.pgbin, "pg_ctl"), "-D", self.pgdata] + \
            list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                           cwd="/")
        if p.returncode != 0:
            raise RuntimeError("pg_ctl %s failed: %s %s" % (
                " ".join(args), p.stdout, p.stderr))

    def pg_stop(self):
        self._pg_ctl("-m", "fast", "-w", "-t", "60", "stop")

    def pg_start(self):
        self._pg_ctl("-l", os.path.join(os.path.dirname(self.pgdata), "log"),
                     "-w", "-t", "60", "start")

    def pg_restart(self):
        self.pg_stop()
        self.pg_start()


# -------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def base_url():
    return _env("USHER_E2E_BASE").rstrip("/")


@pytest.fixture(scope="session")
def server():
    s = _env("USHER_E2E_SERVER")
    assert s in ("lighttpd", "apache"), s
    return s


@pytest.fixture
def client_ip():
    return _next_ip()


@pytest.fixture
def api(base_url, client_ip):
    a = Api(base_url, client_ip)
    yield a
    a.close()


@pytest.fixture
def new_user(api):
    def make(**fields):
        ip = fields.pop("ip", None) or _next_ip()
        body = {
            "email": "e2e-%s@example.test" % uuid.uuid4().hex,
            "password": "Pw-" + secrets.token_urlsafe(18),
            "username": "u" + secrets.token_hex(8),
        }
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        r = api.post("/v1/auth/register", json=body, ip=ip)
        assert r.status_code == 201, \
            "new_user: POST /v1/auth/register -> %d %s" % (r.status_code,
                                                          r.text[:600])
        answer = r.json()
        out = {"email": body.get("email"), "password": body.get("password"),
               "username": body.get("username"), "ip": ip}
        out.update(answer)
        return out
    return make


@pytest.fixture
def login(api):
    def do(login, password, ip=None, **kw):
        return api.post("/v1/auth/login",
                        json={"login": login, "password": password},
                        ip=ip, **kw)
    return do


@pytest.fixture(scope="session")
def db():
    return Db()


@pytest.fixture(scope="session")
def cgi_bin():
    return _env("USHER_E2E_CGI_BIN")


def _read_config(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


@pytest.fixture(scope="session")
def _config_env():
    path = _env("USHER_E2E_CONFIG")
    env = {"USHER_CONFIG": path}
    for k, v in _read_config(path).items():
        env["USHER_" + k.upper()] = v
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if ENV.get(k):
            env[k] = ENV[k]
    return env


@pytest.fixture
def config_env(_config_env):
    return dict(_config_env)


@pytest.fixture
def usherctl(_config_env):
    exe = _env("USHER_E2E_USHERCTL")

    def run(*args, input=None, env=None, timeout=60, check=False):
        # usher takes every USHER_* variable for a configuration key and
        # refuses unknown ones: pass only config_env's (not USHER_E2E_*).
        e = {k: v for k, v in ENV.items() if not k.startswith("USHER_")}
        e.update(_config_env)
        if env:
            e.update(env)
        return subprocess.run([exe] + [str(a) for a in args], input=input,
                              env=e, capture_output=True, text=True,
                              timeout=timeout, check=check)
    return run
