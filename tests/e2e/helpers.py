"""Shared assertions and small tools of the end-to-end suite.

Everything here is plain Python (requests, hashlib); the fixtures live in
conftest.py.  SQL the tests need goes through the few db helpers below so
that a schema change is fixed in one place.
"""

import base64
import hashlib
import hmac
import json
import random
import re
import secrets
import threading
import time

import requests

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
REFRESH_RE = re.compile(r"^[A-Za-z0-9_-]{43,}$")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")

USER_KEYS = {"id", "email", "username", "display_name", "role", "status",
             "email_verified", "locale", "avatar_url", "created_at",
             "updated_at", "profile"}
TOKEN_PAIR_KEYS = {"access_token", "token_type", "expires_in",
                   "refresh_token", "refresh_expires_in", "user"}
# Keys that must never show up in an answer (anywhere in the JSON tree).
SECRET_KEY_RE = re.compile(
    r"pass(word)?(_?hash)?$|hash|secret|salt|digest|scrypt|private|^pw",
    re.I)
# Problem fields that legitimately differ between two requests.
REQUEST_SPECIFIC = {"instance", "request_id", "requestId", "trace_id",
                    "traceId", "timestamp", "time"}

ALLOWED_ORIGIN = "https://app.example.test"
ACCESS_TTL = 900
REFRESH_GRACE = 3

# ---------------------------------------------------------------- values

_ip_lock = threading.Lock()
_ips_used = set()


def fresh_ip():
    """A client address no other test uses (198.18.0.0/15, RFC 2544).

    The conftest gives each test its own address; this is for tests that
    need several (more registrations than the per-address limit, parallel
    requests that must not share a login or refresh bucket)."""
    with _ip_lock:
        while True:
            n = random.SystemRandom().randrange(1, (1 << 17) - 1)
            ip = "198.%d.%d.%d" % (18 + (n >> 16), (n >> 8) & 255, n & 255)
            if ip not in _ips_used and not ip.endswith(".0") \
                    and not ip.endswith(".255"):
                _ips_used.add(ip)
                return ip


def marker():
    """A random tag put into every field of a request, to find its rows."""
    return "e2e" + secrets.token_hex(6)


def unique_email(tag=None):
    return "%s@example.test" % (tag or marker())


def unique_username(tag=None):
    return ("u" + (tag or secrets.token_hex(7)))[:32]


def strong_password():
    return "Pw-" + secrets.token_urlsafe(18)


# ------------------------------------------------------------ responses

def media_type(resp):
    return resp.headers.get("Content-Type", "").split(";")[0].strip().lower()


def describe(resp):
    """One line for assertion messages: method, URL, status and body."""
    req = resp.request
    body = resp.text
    if len(body) > 600:
        body = body[:600] + "..."
    return "%s %s -> %d %s" % (req.method, req.url, resp.status_code, body)


def body_json(resp):
    try:
        return resp.json()
    except ValueError:
        raise AssertionError("answer is not JSON: " + describe(resp))


def assert_problem(resp, status, code=None):
    """An RFC 9457 problem with the given status and (one of the) code(s).

    Returns the parsed body."""
    assert resp.status_code == status, \
        "expected %d, got: %s" % (status, describe(resp))
    assert media_type(resp) == "application/problem+json", \
        "problem Content-Type is %r: %s" % (
            resp.headers.get("Content-Type"), describe(resp))
    body = body_json(resp)
    assert isinstance(body, dict), describe(resp)
    for k in ("type", "title", "status", "code"):
        assert k in body, "problem lacks %r: %s" % (k, describe(resp))
    assert isinstance(body["type"], str) and body["type"], describe(resp)
    assert isinstance(body["title"], str) and body["title"], describe(resp)
    assert body["status"] == status, describe(resp)
    assert isinstance(body["code"], str) and CODE_RE.match(body["code"]), \
        describe(resp)
    if code is not None:
        codes = {code} if isinstance(code, str) else set(code)
        assert body["code"] in codes, \
            "expected code %s, got: %s" % (sorted(codes), describe(resp))
    if "errors" in body:
        assert isinstance(body["errors"], list), describe(resp)
        for e in body["errors"]:
            assert isinstance(e, dict), describe(resp)
            assert isinstance(e.get("field"), str), describe(resp)
            assert isinstance(e.get("code"), str) and CODE_RE.match(e["code"]), \
                describe(resp)
    assert_no_secrets(body)
    return body


def assert_field_error(resp, field, codes, top=None):
    """400 naming `field` in errors[] with one of `codes`.

    `top` is the accepted set of top-level codes; by default
    validation_failed or the field code itself (the design: a field-specific
    top-level code when that one field is the problem)."""
    codes = {codes} if isinstance(codes, str) else set(codes)
    if top is None:
        top = {"validation_failed"} | codes
    body = assert_problem(resp, 400, top)
    errors = body.get("errors")
    assert isinstance(errors, list) and errors, \
        "field problem without errors[]: " + describe(resp)
    hits = [e for e in errors if e.get("field") == field]
    assert hits, "errors[] does not name %r: %s" % (field, describe(resp))
    assert any(e.get("code") in codes for e in hits), \
        "errors[] for %r has no code in %s: %s" % (field, sorted(codes),
                                                   describe(resp))
    return body


def assert_unauthorized(resp):
    """401 unauthorized with a Bearer challenge (bad or missing token)."""
    body = assert_problem(resp, 401, "unauthorized")
    www = resp.headers.get("WWW-Authenticate", "")
    assert www.lower().startswith("bearer"), \
        "401 without WWW-Authenticate: Bearer: %r %s" % (www, describe(resp))
    return body


def assert_no_secrets(obj, *plaintexts):
    """No secret-looking key anywhere in a JSON tree, no scrypt hash value,
    and none of `plaintexts` (passwords) anywhere."""
    def walk(o, path):
        if isinstance(o, dict):
            for k, v in o.items():
                assert not SECRET_KEY_RE.search(k), \
                    "secret-looking key %s.%s in answer" % (path, k)
                walk(v, path + "." + k)
        elif isinstance(o, list):
            for i, v in enumerate(o):
                walk(v, "%s[%d]" % (path, i))
        elif isinstance(o, str):
            assert not o.startswith("$s1$") and not o.startswith("$7$"), \
                "password hash in answer at %s" % path
            assert "PRIVATE KEY" not in o, "private key in answer at %s" % path
    walk(obj, "$")
    text = json.dumps(obj, ensure_ascii=False)
    for p in plaintexts:
        if p:
            assert p not in text, "a password shows in the answer"


def assert_time(s):
    assert isinstance(s, str) and RFC3339_RE.match(s), "not RFC 3339: %r" % s


def assert_user(u, **expect):
    """The contract's user object, and nothing secret in it."""
    assert isinstance(u, dict), u
    missing = USER_KEYS - set(u)
    assert not missing, "user object lacks %s: %r" % (sorted(missing), u)
    assert_no_secrets(u)
    assert isinstance(u["id"], str) and UUID_RE.match(u["id"]), u
    assert u["email"] is None or isinstance(u["email"], str), u
    assert u["username"] is None or isinstance(u["username"], str), u
    assert u["display_name"] is None or isinstance(u["display_name"], str), u
    assert u["role"] in ("guest", "user", "moderator", "admin"), u
    assert u["status"] in ("active", "disabled", "deleted"), u
    assert isinstance(u["email_verified"], bool), u
    assert u["locale"] in ("en", "uk", "ru"), u
    assert u["avatar_url"] is None or isinstance(u["avatar_url"], str), u
    assert_time(u["created_at"])
    assert_time(u["updated_at"])
    assert isinstance(u["profile"], dict), u
    for k, v in expect.items():
        if k in ("email", "username") and isinstance(v, str) \
                and isinstance(u[k], str):
            assert u[k].lower() == v.lower(), "%s: %r != %r" % (k, u[k], v)
        else:
            assert u[k] == v, "%s: %r != %r (%r)" % (k, u[k], v, u)
    return u


def assert_token_pair(resp, status=200, user=None):
    """A token pair answer (with Cache-Control: no-store). Returns the body."""
    assert resp.status_code == status, \
        "expected %d, got: %s" % (status, describe(resp))
    assert media_type(resp) == "application/json", describe(resp)
    body = body_json(resp)
    missing = TOKEN_PAIR_KEYS - set(body)
    assert not missing, "token pair lacks %s: %s" % (sorted(missing),
                                                     describe(resp))
    assert isinstance(body["access_token"], str)
    assert body["access_token"].count(".") == 2, "access token is not a JWT"
    assert body["token_type"] == "Bearer", body["token_type"]
    assert body["expires_in"] == ACCESS_TTL, body["expires_in"]
    assert isinstance(body["refresh_token"], str)
    assert REFRESH_RE.match(body["refresh_token"]), \
        "refresh token is not >= 43 base64url chars: %r" % body["refresh_token"]
    assert body["refresh_token"] != body["access_token"]
    assert isinstance(body["refresh_expires_in"], int) \
        and not isinstance(body["refresh_expires_in"], bool) \
        and body["refresh_expires_in"] > ACCESS_TTL, body["refresh_expires_in"]
    assert_user(body["user"])
    if user is not None:
        assert body["user"]["id"] == user["id"]
    cc = resp.headers.get("Cache-Control", "").lower()
    assert "no-store" in cc, "token answer without Cache-Control: no-store"
    assert_no_secrets(body)
    return body


def strip_request_specific(body):
    return {k: v for k, v in body.items() if k not in REQUEST_SPECIFIC}


# ------------------------------------------------------------------ JWT

def b64url_decode(s):
    if isinstance(s, str):
        s = s.encode("ascii")
    return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


def b64url_encode(b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def jwt_decode(token):
    """(header, payload, signature bytes) without verifying anything."""
    h, p, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), \
        b64url_decode(s)


def jwt_make(header, payload, signature=b""):
    return "%s.%s.%s" % (b64url_encode(json.dumps(header, separators=(",", ":"))),
                         b64url_encode(json.dumps(payload, separators=(",", ":"))),
                         b64url_encode(signature) if signature else "")


def hs256(signing_input, secret):
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    return hmac.new(secret, signing_input.encode("ascii"),
                    hashlib.sha256).digest()


# P-256 (secp256r1), enough to check an ES256 signature against the JWKS.
_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff
_A = _P - 3
_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
_G = (0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
      0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)
_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b


def _ec_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % _P == 0:
        return None
    if p1 == p2:
        lam = (3 * x1 * x1 + _A) * pow(2 * y1, -1, _P) % _P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, _P) % _P
    x3 = (lam * lam - x1 - x2) % _P
    return (x3, (lam * (x1 - x3) - y1) % _P)


def _ec_mul(k, pt):
    acc = None
    while k:
        if k & 1:
            acc = _ec_add(acc, pt)
        pt = _ec_add(pt, pt)
        k >>= 1
    return acc


def es256_verify(signing_input, sig, jwk):
    if len(sig) != 64:
        return False
    x = int.from_bytes(b64url_decode(jwk["x"]), "big")
    y = int.from_bytes(b64url_decode(jwk["y"]), "big")
    if (y * y - (x * x * x + _A * x + _B)) % _P:
        return False  # not on the curve
    r = int.from_bytes(sig[:32], "big")
    s = int.from_bytes(sig[32:], "big")
    if not (0 < r < _N and 0 < s < _N):
        return False
    e = int.from_bytes(hashlib.sha256(signing_input.encode()).digest(), "big")
    w = pow(s, -1, _N)
    pt = _ec_add(_ec_mul(e * w % _N, _G), _ec_mul(r * w % _N, (x, y)))
    return pt is not None and pt[0] % _N == r


def rs256_verify(signing_input, sig, jwk):
    n = int.from_bytes(b64url_decode(jwk["n"]), "big")
    e = int.from_bytes(b64url_decode(jwk["e"]), "big")
    k = (n.bit_length() + 7) // 8
    if len(sig) != k:
        return False
    m = pow(int.from_bytes(sig, "big"), e, n).to_bytes(k, "big")
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420")
    h = hashlib.sha256(signing_input.encode()).digest()
    t = digest_info + h
    return m == b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def jwt_verify_with_jwk(token, jwk):
    h, p, s = token.split(".")
    sig = b64url_decode(s)
    if jwk["kty"] == "EC":
        return es256_verify(h + "." + p, sig, jwk)
    if jwk["kty"] == "RSA":
        return rs256_verify(h + "." + p, sig, jwk)
    raise AssertionError("unexpected kty %r" % jwk["kty"])


def ec_jwk_to_pem(jwk):
    """SubjectPublicKeyInfo PEM of a P-256 JWK (for the HS256 key-confusion
    attack: an HMAC keyed with the public key's PEM)."""
    prefix = bytes.fromhex(
        "3059301306072a8648ce3d020106082a8648ce3d030107034200")
    der = prefix + b"\x04" + b64url_decode(jwk["x"]).rjust(32, b"\0") \
        + b64url_decode(jwk["y"]).rjust(32, b"\0")
    b64 = base64.b64encode(der).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) \
        + "\n-----END PUBLIC KEY-----\n"


# ------------------------------------------------------- HTTP without api

def raw_request(base_url, method, path, json_body=None, ip=None, token=None,
                headers=None, timeout=30):
    """A request on its own connection (the api fixture may share a session,
    which is not thread-safe); used by the parallel tests."""
    h = dict(headers or {})
    if ip:
        h["X-Forwarded-For"] = ip
    if token:
        h["Authorization"] = "Bearer " + token
    return requests.request(method, base_url + path, json=json_body,
                            headers=h, timeout=timeout)


def parallel(n, fn):
    """Run fn(i) in n threads released together; results in order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = fn(i)
        except BaseException as e:  # reported by the caller
            results[i] = e
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def register(api, ip=None, **fields):
    """Register directly (not through new_user) from address `ip` (fresh by
    default). Returns new_user's shape: the fields plus the answer."""
    body = {"email": unique_email(), "password": strong_password(),
            "username": unique_username()}
    body.update(fields)
    body = {k: v for k, v in body.items() if v is not None}
    r = api.post("/v1/auth/register", json=body, ip=ip or fresh_ip())
    assert r.status_code == 201, describe(r)
    out = dict(body)
    out.update(r.json())
    return out


def retry_until(fn, ok, timeout=10.0, step=0.25):
    """Call fn until ok(result) or timeout; returns the last result."""
    end = time.monotonic() + timeout
    while True:
        res = fn()
        if ok(res) or time.monotonic() >= end:
            return res
        time.sleep(step)


# ----------------------------------------------------------------- db

def sql(db, text, *params):
    """Run SQL through the db fixture; `text` uses $1, $2... placeholders."""
    return db.query(text, *params)


def count_users_marked(db, tag):
    """Users rows whose text (email, username, display name...) contains tag."""
    rows = sql(db, "SELECT count(*) FROM users u WHERE u::text ILIKE $1",
               "%" + tag + "%")
    return int(rows[0][0])


def count_users_email(db, email):
    rows = sql(db, "SELECT count(*) FROM users WHERE lower(email::text) = "
               "lower($1)", email)
    return int(rows[0][0])


def tables_containing(db, text):
    """Names of tables with a row whose text form contains `text`
    (to prove a secret is not stored in plaintext anywhere)."""
    tables = sql(db, "SELECT quote_ident(table_schema) || '.' || "
                 "quote_ident(table_name) FROM information_schema.tables "
                 "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN "
                 "('pg_catalog', 'information_schema')")
    hits = []
    for (t,) in tables:
        rows = sql(db, "SELECT count(*) FROM %s x WHERE strpos(x::text, $1) > 0"
                   % t, text)
        if int(rows[0][0]):
            hits.append(t)
    return hits


def active_sessions(db, user_id):
    rows = sql(db, "SELECT count(*) FROM sessions WHERE user_id = $1 "
               "AND revoked_at IS NULL", user_id)
    return int(rows[0][0])


def parse_cgi(out):
    """(status, headers with lower-case names, body bytes) of CGI output."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = out.find(sep)
        if i >= 0:
            head, body = out[:i], out[i + len(sep):]
            break
    else:
        raise AssertionError("no end of CGI headers in %r" % out[:500])
    headers = {}
    for line in head.decode("latin-1").replace("\r\n", "\n").split("\n"):
        assert ":" in line, "bad CGI header line %r" % line
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    status = 200
    if "status" in headers:
        status = int(headers["status"].split()[0])
    return status, headers, body
