"""Smoke tests: the stack answers, and the harness itself works (the web
server passes what the programs need; db, usherctl and plain CGI reach the
same installation)."""

import json
import os
import subprocess


def test_health_ok(api):
    r = api.get("/v1/health")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0].strip() == \
        "application/json"
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert isinstance(body["schema_version"], int) \
        and not isinstance(body["schema_version"], bool)
    assert body["schema_version"] >= 1
    assert isinstance(body["version"], str) and body["version"]


def test_health_headers(api):
    r = api.get("/v1/health")
    assert r.status_code == 200, r.text
    assert r.headers.get("X-Request-Id"), r.headers
    assert r.headers.get("X-Content-Type-Options", "").lower() == "nosniff"
    assert r.headers.get("Content-Security-Policy"), r.headers
    assert r.headers.get("Referrer-Policy"), r.headers


def test_request_id_echoed(api):
    rid = "smoke-test-0123456789"
    r = api.get("/v1/health", headers={"X-Request-Id": rid})
    assert r.status_code == 200, r.text
    assert r.headers.get("X-Request-Id") == rid


def test_request_id_unique(api):
    ids = {api.get("/v1/health").headers.get("X-Request-Id")
           for _ in range(5)}
    assert None not in ids and len(ids) == 5, ids


def test_query_string_is_not_the_path(api):
    """The programs route on REQUEST_URI without its query."""
    r = api.get("/v1/health?x=1&y=%2Fv1%2Fme")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok"


def test_authorization_reaches_program(api, new_user):
    """Apache drops Authorization unless FcgidPassHeader says otherwise."""
    u = new_user()
    assert u.get("access_token"), "register returned no token pair " \
        "(email_verification=no in the test config)"
    r = api.get("/v1/me", token=u["access_token"])
    assert r.status_code == 200, r.text
    assert r.json()["id"] == u["user"]["id"]
    r = api.get("/v1/me")
    assert r.status_code == 401, r.text


def test_path_mapping(api, server):
    """Every program is reachable at its contract path."""
    assert api.get("/.well-known/jwks.json").status_code == 200
    r = api.get("/v1/openapi.json")
    assert r.status_code == 200
    assert r.json()["openapi"].startswith("3.")
    assert api.get("/v1/docs").status_code == 200
    assert api.get("/v1/me/sessions").status_code == 401


def test_db_fixture(db):
    assert db.query("SELECT 1") == [("1",)]
    odd = "it's | a\nline; DROP TABLE users; --"
    assert db.query("SELECT $1::text, $2::text IS NULL", odd, None) == \
        [(odd, "t")]
    assert int(db.query("SELECT count(*) FROM users")[0][0]) >= 0


def test_usherctl_fixture(usherctl):
    p = usherctl("--help")
    assert p.returncode == 0, p.stderr
    assert "migrate" in p.stdout + p.stderr
    # A command that reads the configuration and the database.
    p = usherctl("keys", "list", "--json")
    assert p.returncode == 0, p.stderr
    assert "kid" in p.stdout, p.stdout


def test_health_as_plain_cgi(cgi_bin, config_env):
    env = dict(config_env)
    env.update({
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_METHOD": "GET",
        "REQUEST_URI": "/v1/health",
        "SCRIPT_NAME": "/v1/health",
        "QUERY_STRING": "",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
    })
    p = subprocess.run([os.path.join(cgi_bin, "health")], env=env,
                       input=b"", capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    head, sep, body = p.stdout.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = p.stdout.partition(b"\n\n")
    assert sep, p.stdout
    headers = {}
    for line in head.decode().splitlines():
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    assert headers.get("status", "200").startswith("200"), headers
    assert json.loads(body)["status"] == "ok"
