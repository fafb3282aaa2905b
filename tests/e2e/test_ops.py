"""Operations: per-request state does not leak between requests of one
worker, PostgreSQL restarts give 503 then recovery, and the programs run as
plain CGI."""

import json
import os
import subprocess
import time

from helpers import (ALLOWED_ORIGIN, assert_problem, assert_token_pair,
                     parallel, parse_cgi, raw_request,
                     assert_unauthorized, describe, fresh_ip, marker,
                     retry_until, strong_password, unique_email)

ROUNDS = 12


def make_admin(usherctl):
    email, pw = unique_email(), strong_password()
    p = usherctl("--json", "user", "create", "--email", email,
                 "--password-stdin", "--role", "admin", "--verified",
                 input=pw + "\n")
    assert p.returncode == 0, p.stderr
    return email, pw, json.loads(p.stdout)


# ------------------------------------------------------------ no leaks

def test_admin_then_anonymous_leaks_nothing(api, usherctl, login):
    email, pw, created = make_admin(usherctl)
    tok = assert_token_pair(login(email, pw), 200)
    admin = tok["user"]
    assert admin["role"] == "admin"
    secrets_of_admin = [admin["id"], email.lower(), email]
    for i in range(ROUNDS):
        r = api.get("/v1/me", token=tok["access_token"])
        assert r.status_code == 200, describe(r)
        assert r.json()["id"] == admin["id"] and r.json()["role"] == "admin"
        for anon in (api.get("/v1/me"),
                     api.get("/v1/me", headers={"Authorization": "Bearer x"}),
                     api.get("/v1/me/sessions"),
                     api.patch("/v1/me", json={"display_name": "pwned"})):
            assert_unauthorized(anon)
            text = anon.text + json.dumps(dict(anon.headers))
            for s in secrets_of_admin:
                assert s not in text, "admin data in an anonymous answer"
            assert "admin" not in anon.text.lower()
    r = api.get("/v1/me", token=tok["access_token"])
    assert r.json()["display_name"] != "pwned"


def test_two_users_alternating_see_themselves(api, new_user):
    a = new_user(display_name="Alice " + marker())
    b = new_user(display_name="Bob " + marker())
    for i in range(ROUNDS):
        for u, other in ((a, b), (b, a)):
            r = api.get("/v1/me", token=u["access_token"])
            assert r.status_code == 200, describe(r)
            me = r.json()
            assert me["id"] == u["user"]["id"]
            assert me["email"] == u["user"]["email"]
            assert me["display_name"] == u["user"]["display_name"]
            assert other["user"]["id"] not in r.text
            assert other["email"] not in r.text
            s = api.get("/v1/me/sessions", token=u["access_token"])
            assert s.status_code == 200, describe(s)
            assert len(s.json()["items"]) == 1


def test_request_state_reset_between_requests(api):
    """Request id, CORS headers and field errors of one request do not show
    up in the next answer of the same worker."""
    for i in range(ROUNDS):
        rid = "leak-check-%d-%s" % (i, marker())
        r1 = api.get("/v1/health", headers={"X-Request-Id": rid,
                                            "Origin": ALLOWED_ORIGIN})
        assert r1.headers.get("X-Request-Id") == rid
        assert r1.headers.get("Access-Control-Allow-Origin") == ALLOWED_ORIGIN
        r2 = api.get("/v1/health")
        assert r2.headers.get("X-Request-Id") not in (None, rid)
        assert "Access-Control-Allow-Origin" not in r2.headers

    for i in range(ROUNDS):
        bad_email = api.post("/v1/auth/register",
                             json={"email": "nope", "password": strong_password()},
                             ip=fresh_ip())
        b1 = assert_problem(bad_email, 400)
        assert {e["field"] for e in b1["errors"]} == {"email"}, b1
        bad_pw = api.post("/v1/auth/register",
                          json={"email": unique_email(), "password": "short"},
                          ip=fresh_ip())
        b2 = assert_problem(bad_pw, 400)
        assert {e["field"] for e in b2["errors"]} == {"password"}, b2


def test_authenticated_then_unauthenticated_write(api, new_user):
    u = new_user()
    for i in range(ROUNDS // 2):
        r = api.patch("/v1/me", json={"display_name": "Round %d" % i},
                      token=u["access_token"])
        assert r.status_code == 200, describe(r)
        r = api.post("/v1/auth/logout")
        assert_unauthorized(r)
        r = api.put("/v1/me/password", json={"current_password": u["password"],
                                             "new_password": strong_password()})
        assert_unauthorized(r)
    r = api.get("/v1/me", token=u["access_token"])
    assert r.status_code == 200, "the user was logged out by anonymous calls"


# ------------------------------------------------------------- PostgreSQL

def test_postgres_restart_503_then_recovery(api, db, new_user, login):
    u = new_user()
    tok = u["access_token"]
    assert api.get("/v1/health").status_code == 200
    assert api.get("/v1/me", token=tok).status_code == 200
    db.pg_stop()
    try:
        for i in range(4):  # reach several workers of each program
            r = api.get("/v1/health")
            assert_problem(r, 503, "service_unavailable")
            assert r.headers.get("X-Request-Id")
            r = api.get("/v1/me", token=tok)
            assert_problem(r, 503, "service_unavailable")
        r = login(u["email"], u["password"])
        assert_problem(r, 503, "service_unavailable")
        r = api.post("/v1/auth/refresh",
                     json={"refresh_token": u["refresh_token"]})
        assert_problem(r, 503, "service_unavailable")
    finally:
        db.pg_start()
    r = retry_until(lambda: api.get("/v1/health"),
                    lambda r: r.status_code == 200, timeout=10, step=0.3)
    assert r.status_code == 200, "health did not recover: " + describe(r)
    body = r.json()
    assert body["status"] == "ok" and body["database"] == "ok", body
    r = retry_until(lambda: api.get("/v1/me", token=tok),
                    lambda r: r.status_code == 200, timeout=10, step=0.3)
    assert r.status_code == 200, "/v1/me did not recover: " + describe(r)
    # Once up, every worker answers (each reconnects on its next request).
    for i in range(10):
        assert api.get("/v1/health").status_code == 200
        r = api.get("/v1/me", token=tok)
        assert r.status_code == 200, describe(r)
        assert r.json()["id"] == u["user"]["id"]
    # Concurrent requests reach the workers that saw nothing of the outage
    # (the server sends sequential requests to one worker): their old
    # connection is dead, and they must notice before answering.
    for i in range(3):
        for path in ("/v1/health", "/v1/me", "/.well-known/jwks.json"):
            rs = parallel(8, lambda j: raw_request(
                api.base_url, "GET", path, token=tok, ip=fresh_ip()))
            bad = [describe(r) for r in rs if r.status_code != 200]
            assert not bad, "after recovery, round %d: %s" % (i, bad)
        rs = parallel(8, lambda j: raw_request(
            api.base_url, "POST", "/v1/auth/refresh",
            {"refresh_token": "A" * 43}, ip=fresh_ip()))
        bad = [describe(r) for r in rs if r.status_code != 401]
        assert not bad, "after recovery, round %d: %s" % (i, bad)
    p = assert_token_pair(login(u["email"], u["password"]), 200)
    # The refresh refused during the outage was not consumed.
    assert_token_pair(api.post("/v1/auth/refresh", json={
        "refresh_token": u["refresh_token"]}), 200, user=u["user"])
    assert api.get("/v1/me", token=p["access_token"]).status_code == 200


def test_health_ok(api):
    r = api.get("/v1/health")
    assert r.status_code == 200, describe(r)
    b = r.json()
    assert b["status"] == "ok" and b["database"] == "ok"
    assert isinstance(b["schema_version"], int) and b["schema_version"] >= 1
    assert isinstance(b["version"], str) and b["version"]


# ---------------------------------------------------------------- plain CGI

def run_cgi(cgi_bin, config_env, program, method, uri, body=b"",
            headers=None):
    env = dict(config_env)
    env.update({
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GATEWAY_INTERFACE": "CGI/1.1",
        "REQUEST_METHOD": method,
        "REQUEST_URI": uri,
        "SCRIPT_NAME": uri.split("?")[0],
        "QUERY_STRING": uri.split("?", 1)[1] if "?" in uri else "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_FORWARDED_FOR": fresh_ip(),
    })
    if body:
        env["CONTENT_LENGTH"] = str(len(body))
        env["CONTENT_TYPE"] = "application/json"
    for k, v in (headers or {}).items():
        env[k] = v
    p = subprocess.run([os.path.join(cgi_bin, program)], env=env, input=body,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, "CGI exit %d: %s" % (
        p.returncode, p.stderr.decode(errors="replace")[-2000:])
    status, headers, body = parse_cgi(p.stdout)
    assert "content-type" in headers, headers
    return status, headers, body


def test_cgi_health(cgi_bin, config_env):
    status, h, body = run_cgi(cgi_bin, config_env, "health", "GET",
                              "/v1/health")
    assert status == 200, body
    assert h["content-type"].startswith("application/json")
    assert h.get("x-content-type-options") == "nosniff"
    assert h.get("x-request-id")
    b = json.loads(body)
    assert b["status"] == "ok" and b["database"] == "ok"


def test_cgi_health_query_and_unknown_path(cgi_bin, config_env):
    status, h, body = run_cgi(cgi_bin, config_env, "health", "GET",
                              "/v1/health?verbose=1")
    assert status == 200, body
    status, h, body = run_cgi(cgi_bin, config_env, "auth", "GET",
                              "/v1/auth/nope")
    assert status == 404, body
    assert h["content-type"].startswith("application/problem+json")
    assert json.loads(body)["code"] == "not_found"


def test_cgi_login_wrong_password(cgi_bin, config_env, new_user):
    u = new_user()
    req = json.dumps({"login": u["email"],
                      "password": strong_password()}).encode()
    status, h, body = run_cgi(cgi_bin, config_env, "auth", "POST",
                              "/v1/auth/login", req)
    assert status == 401, body
    assert h["content-type"].startswith("application/problem+json")
    b = json.loads(body)
    assert b["code"] == "invalid_credentials" and b["status"] == 401


def test_cgi_login_and_me(cgi_bin, config_env, new_user):
    u = new_user()
    req = json.dumps({"login": u["email"], "password": u["password"]}).encode()
    status, h, body = run_cgi(cgi_bin, config_env, "auth", "POST",
                              "/v1/auth/login", req)
    assert status == 200, body
    assert "no-store" in h.get("cache-control", "")
    tok = json.loads(body)
    status, h, body = run_cgi(
        cgi_bin, config_env, "me", "GET", "/v1/me",
        headers={"HTTP_AUTHORIZATION": "Bearer " + tok["access_token"]})
    assert status == 200, body
    assert json.loads(body)["id"] == u["user"]["id"]
    status, h, body = run_cgi(cgi_bin, config_env, "me", "GET", "/v1/me")
    assert status == 401, body
    assert h.get("www-authenticate", "").lower().startswith("bearer")


def test_cgi_body_shorter_than_content_length(cgi_bin, config_env):
    """A truncated body (client went away) is a 400, not a hang or crash."""
    env = dict(config_env)
    req = b'{"login":"a@example.test","password":"xxxxxxxxxx"}'
    env.update({
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST",
        "REQUEST_URI": "/v1/auth/login", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": fresh_ip(),
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(req) + 100),
    })
    t0 = time.monotonic()
    p = subprocess.run([os.path.join(cgi_bin, "auth")], env=env, input=req,
                       capture_output=True, timeout=60)
    assert time.monotonic() - t0 < 30
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-2000:]
    status, h, body = parse_cgi(p.stdout)
    assert status == 400, body
    assert h["content-type"].startswith("application/problem+json")
