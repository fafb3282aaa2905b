"""HTTP behaviour shared by every endpoint: X-Request-Id, security headers,
Cache-Control, 405 + Allow, 404, CORS, the OpenAPI document and the docs
page."""

import re
import secrets
import uuid

import pytest

from helpers import (ALLOWED_ORIGIN, REQUEST_ID_RE, assert_problem,
                     assert_token_pair, describe, fresh_ip, jwt_decode,
                     media_type, strong_password, unique_email)

ENDPOINTS = [
    ("GET", "/v1/health"),
    ("POST", "/v1/auth/register"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/guest"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/logout"),
    ("GET", "/v1/me"),
    ("PATCH", "/v1/me"),
    ("POST", "/v1/me/upgrade"),
    ("PUT", "/v1/me/password"),
    ("GET", "/v1/me/sessions"),
    ("DELETE", "/v1/me/sessions/{id}"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/v1/openapi.json"),
    ("GET", "/v1/docs"),
]
EP_IDS = ["%s %s" % e for e in ENDPOINTS]
OK_STATUS = {
    ("GET", "/v1/health"): 200, ("POST", "/v1/auth/register"): 201,
    ("POST", "/v1/auth/login"): 200, ("POST", "/v1/auth/guest"): 201,
    ("POST", "/v1/auth/refresh"): 200, ("POST", "/v1/auth/logout"): 204,
    ("GET", "/v1/me"): 200, ("PATCH", "/v1/me"): 200,
    ("POST", "/v1/me/upgrade"): 200, ("PUT", "/v1/me/password"): 204,
    ("GET", "/v1/me/sessions"): 200, ("DELETE", "/v1/me/sessions/{id}"): 204,
    ("GET", "/.well-known/jwks.json"): 200, ("GET", "/v1/openapi.json"): 200,
    ("GET", "/v1/docs"): 200,
}
TOKEN_ENDPOINTS = [("POST", "/v1/auth/register"), ("POST", "/v1/auth/login"),
                   ("POST", "/v1/auth/guest"), ("POST", "/v1/auth/refresh")]


def exchange(api, new_user, login, ep, ok, headers=None):
    """One request to endpoint `ep`: a successful one (ok) or one that
    fails (bad input, no token or wrong method)."""
    h = dict(headers or {})
    method, path = ep
    if ep in (("GET", "/v1/health"), ("GET", "/.well-known/jwks.json"),
              ("GET", "/v1/openapi.json"), ("GET", "/v1/docs")):
        if ok:
            return api.get(path, headers=h)
        return api.request("DELETE", path, headers=h)
    if ep == ("POST", "/v1/auth/register"):
        if ok:
            return api.post(path, json={"email": unique_email(),
                                        "password": strong_password()},
                            headers=h, ip=fresh_ip())
        return api.post(path, json={"email": "not-an-email"}, headers=h)
    if ep == ("POST", "/v1/auth/login"):
        if ok:
            u = new_user()
            return login(u["email"], u["password"], headers=h)
        return api.post(path, data=b"{", headers=dict(
            h, **{"Content-Type": "application/json"}))
    if ep == ("POST", "/v1/auth/guest"):
        if ok:
            return api.post(path, headers=h, ip=fresh_ip())
        return api.request("GET", path, headers=h)
    if ep == ("POST", "/v1/auth/refresh"):
        if ok:
            u = new_user()
            return api.post(path, json={"refresh_token": u["refresh_token"]},
                            headers=h)
        return api.post(path, json={"refresh_token": "A" * 43}, headers=h)
    if ep == ("POST", "/v1/auth/upgrade"):
        raise AssertionError("not an endpoint")
    if ep == ("POST", "/v1/me/upgrade"):
        if ok:
            g = api.post("/v1/auth/guest", ip=fresh_ip()).json()
            return api.post(path, json={"email": unique_email(),
                                        "password": strong_password()},
                            token=g["access_token"], headers=h, ip=fresh_ip())
        return api.post(path, json={}, headers=h)
    if ep == ("DELETE", "/v1/me/sessions/{id}"):
        if ok:
            u = new_user()
            s2 = login(u["email"], u["password"]).json()
            sid = jwt_decode(s2["access_token"])[1]["sid"]
            return api.delete("/v1/me/sessions/" + sid,
                              token=u["access_token"], headers=h)
        return api.delete("/v1/me/sessions/" + str(uuid.uuid4()), headers=h)
    # The remaining endpoints take a bearer token; the failure is its absence.
    if not ok:
        return api.request(method, path, json={} if method != "GET" else None,
                           headers=h)
    u = new_user()
    body = None
    if ep == ("PATCH", "/v1/me"):
        body = {"display_name": "HTTP Test"}
    elif ep == ("PUT", "/v1/me/password"):
        body = {"current_password": u["password"],
                "new_password": strong_password()}
    return api.request(method, path, json=body, token=u["access_token"],
                       headers=h)


def both(api, new_user, login, ep, headers=None):
    ok = exchange(api, new_user, login, ep, True, headers)
    assert ok.status_code == OK_STATUS[ep], describe(ok)
    bad = exchange(api, new_user, login, ep, False, headers)
    assert bad.status_code >= 400, describe(bad)
    assert_problem(bad, bad.status_code)
    return ok, bad


# -------------------------------------------------------------- request id

@pytest.mark.parametrize("ep", ENDPOINTS, ids=EP_IDS)
def test_request_id_present(api, new_user, login, ep):
    seen = set()
    for r in both(api, new_user, login, ep):
        rid = r.headers.get("X-Request-Id")
        assert rid and REQUEST_ID_RE.match(rid), describe(r)
        seen.add(rid)
    assert len(seen) == 2, "two requests got the same X-Request-Id"


@pytest.mark.parametrize("ep", ENDPOINTS, ids=EP_IDS)
def test_request_id_echoed(api, new_user, login, ep):
    rid = "e2e-" + secrets.token_hex(8) + ".x_Y"
    for r in both(api, new_user, login, ep, {"X-Request-Id": rid}):
        assert r.headers.get("X-Request-Id") == rid, describe(r)


HOSTILE_IDS = [
    ("200-chars", "r" * 200), ("65-chars", "r" * 65),
    ("space", "abc def"), ("html", "<script>alert(1)</script>"),
    ("semicolon", "id;rm -rf /"), ("quote", 'a"b'),
    ("encoded-crlf", "abc%0d%0aX-Injected:%201"),
    ("utf8", "\u043a\u043b\u044e\u0447".encode("utf-8")),
    ("json", '{"a":1}'),
]


@pytest.mark.parametrize("name,value", HOSTILE_IDS,
                         ids=[h[0] for h in HOSTILE_IDS])
@pytest.mark.parametrize("path", ["/v1/health", "/v1/me"])
def test_request_id_hostile_replaced(api, name, value, path):
    r = api.get(path, headers={"X-Request-Id": value})
    rid = r.headers.get("X-Request-Id", "")
    sent = value.decode("latin-1") if isinstance(value, bytes) else value
    assert rid != sent, "hostile X-Request-Id echoed: %r" % rid
    assert REQUEST_ID_RE.match(rid), "X-Request-Id %r" % rid
    assert "X-Injected" not in r.headers
    assert "<script>" not in r.text


# -------------------------------------------------------- security headers

def assert_security_headers(r):
    h = r.headers
    assert h.get("X-Content-Type-Options", "").lower() == "nosniff", \
        describe(r)
    csp = h.get("Content-Security-Policy", "")
    assert csp.strip(), "no Content-Security-Policy: " + describe(r)
    assert "frame-ancestors" in csp or "default-src" in csp, csp
    assert h.get("Referrer-Policy", "").strip(), \
        "no Referrer-Policy: " + describe(r)
    assert "*" not in h.get("Access-Control-Allow-Origin", "")


@pytest.mark.parametrize("ep", ENDPOINTS, ids=EP_IDS)
def test_security_headers(api, new_user, login, ep):
    for r in both(api, new_user, login, ep):
        assert_security_headers(r)
        if r.status_code != 204 and r.request.url.find("/v1/docs") < 0:
            assert media_type(r) in ("application/json",
                                     "application/problem+json"), describe(r)


@pytest.mark.parametrize("ep", TOKEN_ENDPOINTS, ids=[e[1] for e in
                                                    TOKEN_ENDPOINTS])
def test_cache_control_no_store_on_tokens(api, new_user, login, ep):
    r = exchange(api, new_user, login, ep, True)
    body = assert_token_pair(r, OK_STATUS[ep])
    assert body["access_token"]
    assert "no-store" in r.headers.get("Cache-Control", "").lower()


# ----------------------------------------------------------------- 405

WRONG_METHODS = [
    ("GET", "/v1/auth/login", {"POST"}),
    ("GET", "/v1/auth/register", {"POST"}),
    ("PUT", "/v1/auth/register", {"POST"}),
    ("GET", "/v1/auth/guest", {"POST"}),
    ("GET", "/v1/auth/refresh", {"POST"}),
    ("DELETE", "/v1/auth/logout", {"POST"}),
    ("DELETE", "/v1/health", {"GET"}),
    ("POST", "/v1/health", {"GET"}),
    ("PUT", "/v1/me", {"GET", "PATCH"}),
    ("POST", "/v1/me", {"GET", "PATCH"}),
    ("GET", "/v1/me/upgrade", {"POST"}),
    ("GET", "/v1/me/password", {"PUT"}),
    ("POST", "/v1/me/password", {"PUT"}),
    ("POST", "/v1/me/sessions", {"GET"}),
    ("GET", "/v1/me/sessions/" + str(uuid.uuid4()), {"DELETE"}),
    ("POST", "/.well-known/jwks.json", {"GET"}),
    ("DELETE", "/v1/openapi.json", {"GET"}),
    ("POST", "/v1/docs", {"GET"}),
]


@pytest.mark.parametrize("method,path,allowed", WRONG_METHODS,
                         ids=["%s %s" % (m, p) for m, p, _ in WRONG_METHODS])
def test_method_not_allowed(api, new_user, method, path, allowed):
    u = new_user()
    r = api.request(method, path, token=u["access_token"],
                    json={} if method in ("POST", "PUT", "PATCH") else None)
    assert_problem(r, 405, "method_not_allowed")
    allow = {m.strip().upper() for m in r.headers.get("Allow", "").split(",")
             if m.strip()}
    assert allowed <= allow, "Allow %r lacks %s" % (
        r.headers.get("Allow"), sorted(allowed))
    assert method not in allow
    assert_security_headers(r)


# ----------------------------------------------------------------- 404

# Paths the web servers hand to a program that has no route for them.
# Apache maps /v1/health, /v1/docs, /v1/openapi.json and the JWKS exactly
# (its own 404 page answers below them); lighttpd maps every prefix.
UNKNOWN = ["/v1/auth/nope", "/v1/auth/login/extra", "/v1/auth/",
           "/v1/auth/LOGIN", "/v1/me/nope", "/v1/me/sessions/a/b",
           "/v1/me/upgrade/x", "/v1/me/"]
UNKNOWN_LIGHTTPD = ["/v1/health/nope", "/v1/healthz", "/v1/docs/nope",
                    "/v1/openapi.json/x", "/.well-known/jwks.json/x"]


@pytest.mark.parametrize("path", UNKNOWN + UNKNOWN_LIGHTTPD)
def test_unknown_path_404(api, new_user, server, path):
    if path in UNKNOWN_LIGHTTPD and server != "lighttpd":
        pytest.skip("not mapped to a program behind %s" % server)
    u = new_user()
    for token in (None, u["access_token"]):
        r = api.get(path, token=token)
        assert_problem(r, 404, "not_found")
        assert_security_headers(r)
        assert r.headers.get("X-Request-Id")


# ---------------------------------------------------------------- CORS

def _csv(v):
    return {x.strip().lower() for x in (v or "").split(",") if x.strip()}


@pytest.mark.parametrize("ep", ENDPOINTS, ids=EP_IDS)
def test_cors_preflight_allowed_origin(api, ep):
    method, path = ep
    path = path.replace("{id}", str(uuid.uuid4()))
    r = api.options(path, headers={
        "Origin": ALLOWED_ORIGIN,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code == 204, describe(r)
    assert r.headers.get("Access-Control-Allow-Origin") == ALLOWED_ORIGIN
    assert method.lower() in _csv(r.headers.get(
        "Access-Control-Allow-Methods")), r.headers
    hdrs = _csv(r.headers.get("Access-Control-Allow-Headers"))
    assert {"authorization", "content-type"} <= hdrs or "*" in hdrs, r.headers
    ma = r.headers.get("Access-Control-Max-Age")
    assert ma is None or ma.isdigit()


@pytest.mark.parametrize("origin", [
    "https://evil.example.test", "https://app.example.test.evil.test",
    "http://app.example.test", "https://app.example.test:444", "null",
    "https://xapp.example.test", "https://app.example.tes",
])
@pytest.mark.parametrize("path", ["/v1/auth/login", "/v1/me", "/v1/health"])
def test_cors_preflight_other_origin(api, origin, path):
    r = api.options(path, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code < 500, describe(r)
    assert "Access-Control-Allow-Origin" not in r.headers, \
        "origin %r allowed: %r" % (origin, dict(r.headers))
    assert "Access-Control-Allow-Credentials" not in r.headers


def test_cors_simple_requests(api, new_user):
    u = new_user()
    r = api.get("/v1/me", token=u["access_token"],
                headers={"Origin": ALLOWED_ORIGIN})
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Access-Control-Allow-Origin") == ALLOWED_ORIGIN
    assert "origin" in _csv(r.headers.get("Vary"))
    r = api.get("/v1/me", token=u["access_token"],
                headers={"Origin": "https://evil.example.test"})
    assert "Access-Control-Allow-Origin" not in r.headers
    r = api.get("/v1/me", token=u["access_token"])
    assert "Access-Control-Allow-Origin" not in r.headers
    # Errors carry CORS headers too, so a browser app can read them.
    r = api.get("/v1/me", headers={"Origin": ALLOWED_ORIGIN})
    assert r.status_code == 401
    assert r.headers.get("Access-Control-Allow-Origin") == ALLOWED_ORIGIN


# -------------------------------------------------------- OpenAPI, docs

def test_openapi_document(api):
    r = api.get("/v1/openapi.json")
    assert r.status_code == 200, describe(r)
    assert media_type(r) == "application/json"
    doc = r.json()
    assert re.match(r"^3\.1\.\d+$", doc.get("openapi", "")), doc.get("openapi")
    assert doc.get("info", {}).get("title") and doc["info"].get("version")
    paths = doc.get("paths", {})
    for method, path in ENDPOINTS:
        if path in ("/v1/openapi.json", "/v1/docs"):
            continue
        if "{id}" in path:
            keys = [k for k in paths
                    if re.match(r"^/v1/me/sessions/\{[A-Za-z_]+\}$", k)]
            assert keys, "no /v1/me/sessions/{id} in paths"
            item = paths[keys[0]]
        else:
            assert path in paths, "%s missing from paths" % path
            item = paths[path]
        op = item.get(method.lower())
        assert op, "%s %s not documented" % (method, path)
        assert op.get("responses"), "%s %s has no responses" % (method, path)
    # The contract's error codes are documented somewhere in the document.
    text = r.text
    for code in ("invalid_credentials", "email_taken", "username_taken",
                 "refresh_token_reused", "invalid_refresh_token",
                 "rate_limited", "weak_password", "unauthorized"):
        assert code in text, "%s not in the OpenAPI document" % code


def test_docs_page(api):
    r = api.get("/v1/docs")
    assert r.status_code == 200, describe(r)
    assert media_type(r) == "text/html", r.headers.get("Content-Type")
    assert "<html" in r.text.lower()
    assert_security_headers(r)
