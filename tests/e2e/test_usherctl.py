"""usherctl: help and exit codes, accounts, sessions and keys, checked
against the HTTP API."""

import json
import uuid

import pytest

from helpers import (assert_problem, assert_token_pair, assert_unauthorized,
                     assert_user, describe, jwt_decode, marker,
                     strong_password, unique_email)


def ok_json(p):
    assert p.returncode == 0, "exit %d: %s %s" % (p.returncode, p.stdout,
                                                   p.stderr)
    try:
        return json.loads(p.stdout)
    except ValueError:
        raise AssertionError("not JSON: %r" % p.stdout[:500])


def items(obj):
    """A list answer, bare or as {"items": [...]}."""
    if isinstance(obj, dict) and "items" in obj:
        obj = obj["items"]
    assert isinstance(obj, list), obj
    return obj


def create(usherctl, role="user", **kw):
    email = kw.get("email") or unique_email()
    pw = kw.get("password") or strong_password()
    args = ["--json", "user", "create", "--email", email, "--password-stdin",
            "--role", role, "--verified"]
    if kw.get("username"):
        args += ["--username", kw["username"]]
    u = ok_json(usherctl(*args, input=pw + "\n"))
    if isinstance(u, dict) and "user" in u and "id" not in u:
        u = u["user"]
    return email, pw, u


# ----------------------------------------------------------- help, usage

@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["user", "--help"], ["user", "create", "--help"],
    ["keys", "--help"], ["keys", "list", "--help"], ["sessions", "--help"],
    ["sessions", "revoke", "--help"], ["migrate", "--help"],
])
def test_help_exit_0(usherctl, args):
    p = usherctl(*args)
    assert p.returncode == 0, (p.returncode, p.stderr)
    assert "usage" in (p.stdout + p.stderr).lower()
    assert p.stdout.strip(), "help goes to stdout"


def test_top_help_lists_commands(usherctl):
    out = usherctl("--help").stdout
    for word in ("migrate", "keys", "user", "sessions", "set-role",
                 "disable", "revoke"):
        assert word in out, word


@pytest.mark.parametrize("args", [
    [], ["frobnicate"], ["user", "frobnicate"], ["keys", "frobnicate"],
    ["--bogus-option", "user", "list"], ["user", "create"],
    ["user", "create", "--email", "not-an-email", "--password",
     "Pw-abcdefghijk"],
    ["user", "create", "--email", "a@example.test"],
    ["user", "set-role"], ["user", "show"], ["sessions", "revoke"],
    ["user", "list", "--limit", "zero"],
])
def test_usage_errors_exit_2(usherctl, args):
    p = usherctl(*args)
    assert p.returncode == 2, (args, p.returncode, p.stdout, p.stderr)
    assert p.stderr.strip(), "a usage error says something on stderr"


def test_not_found_exit_3(usherctl):
    for args in (["user", "show", unique_email()],
                 ["user", "show", str(uuid.uuid4())],
                 ["user", "disable", unique_email()],
                 ["user", "set-role", unique_email(), "admin"],
                 ["sessions", "list", unique_email()],
                 ["sessions", "revoke", str(uuid.uuid4())]):
        p = usherctl(*args)
        assert p.returncode == 3, (args, p.returncode, p.stdout, p.stderr)


def test_migrate_is_idempotent(usherctl, api):
    out = ok_json(usherctl("--json", "migrate"))
    assert out.get("applied") == 0, out
    assert isinstance(out.get("schema_version"), int)
    health = api.get("/v1/health").json()
    assert health["schema_version"] == out["schema_version"]


# ------------------------------------------------------------- accounts

def test_user_create_refusals_exit_1(usherctl, new_user):
    u = new_user()
    p = usherctl("user", "create", "--email", u["email"].upper(),
                 "--password-stdin", input=strong_password() + "\n")
    assert p.returncode == 1, (p.returncode, p.stderr)
    p = usherctl("user", "create", "--email", unique_email(),
                 "--password-stdin", input="password123\n")
    assert p.returncode == 1, (p.returncode, p.stderr)
    p = usherctl("user", "create", "--email", unique_email(),
                 "--username", u["username"], "--password-stdin",
                 input=strong_password() + "\n")
    assert p.returncode == 1, (p.returncode, p.stderr)
    p = usherctl("user", "create", "--email", unique_email(),
                 "--password-stdin", "--role", "superuser",
                 input=strong_password() + "\n")
    assert p.returncode in (1, 2), (p.returncode, p.stderr)


def test_user_create_show_list(usherctl, login):
    tag = marker()
    email, pw, u = create(usherctl, username="cli" + tag)
    assert_user(u, email=email, username="cli" + tag, role="user",
                email_verified=True, status="active")
    assert pw not in json.dumps(u)
    # Over HTTP: the same account.
    body = assert_token_pair(login(email, pw), 200)
    assert body["user"]["id"] == u["id"]
    # show by email (any case), id and username
    for key in (email, email.upper(), u["id"], "cli" + tag):
        shown = ok_json(usherctl("--json", "user", "show", key))
        assert shown["id"] == u["id"], key
    # text output names the account too
    p = usherctl("user", "show", email)
    assert p.returncode == 0 and u["id"] in p.stdout and email in p.stdout
    listed = items(ok_json(usherctl("--json", "user", "list", "--limit",
                                    "10000")))
    assert u["id"] in {x["id"] for x in listed}
    for x in listed:
        assert_user(x)


def test_user_list_filters(usherctl):
    _, _, mod = create(usherctl, role="moderator")
    mods = items(ok_json(usherctl("--json", "user", "list", "--role",
                                  "moderator", "--limit", "10000")))
    assert mod["id"] in {x["id"] for x in mods}
    assert {x["role"] for x in mods} == {"moderator"}
    admins = items(ok_json(usherctl("--json", "user", "list", "--role",
                                    "admin", "--limit", "10000")))
    assert mod["id"] not in {x["id"] for x in admins}


def test_user_set_role(usherctl, api, new_user, login):
    u = new_user()
    p = usherctl("user", "set-role", u["email"], "moderator")
    assert p.returncode == 0, p.stderr
    shown = ok_json(usherctl("--json", "user", "show", u["email"]))
    assert shown["role"] == "moderator"
    assert api.get("/v1/me", token=u["access_token"]).json()["role"] \
        == "moderator"
    body = assert_token_pair(login(u["email"], u["password"]), 200)
    assert body["user"]["role"] == "moderator"
    assert jwt_decode(body["access_token"])[1]["role"] == "moderator"
    p = usherctl("user", "set-role", u["email"], "superuser")
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert ok_json(usherctl("--json", "user", "show", u["user"]["id"]))["role"] \
        == "moderator"


def test_user_disable_enable(usherctl, api, new_user, login):
    u = new_user()
    p = usherctl("user", "disable", u["email"])
    assert p.returncode == 0, p.stderr
    assert ok_json(usherctl("--json", "user", "show", u["email"]))["status"] \
        == "disabled"
    # Sessions revoked at once, login refused.
    assert_unauthorized(api.get("/v1/me", token=u["access_token"]))
    r = api.post("/v1/auth/refresh", json={"refresh_token": u["refresh_token"]})
    assert_problem(r, 401, {"invalid_refresh_token", "refresh_token_reused"})
    assert_problem(login(u["email"], u["password"]), 403, "account_disabled")
    assert items(ok_json(usherctl("--json", "sessions", "list",
                                  u["email"]))) == []
    p = usherctl("user", "enable", u["user"]["id"])
    assert p.returncode == 0, p.stderr
    assert ok_json(usherctl("--json", "user", "show", u["user"]["id"]))["status"] \
        == "active"
    body = assert_token_pair(login(u["email"], u["password"]), 200)
    assert api.get("/v1/me", token=body["access_token"]).status_code == 200


# ------------------------------------------------------------- sessions

def test_sessions_list_and_revoke(usherctl, api, new_user, login):
    u = new_user()
    s2 = assert_token_pair(login(u["email"], u["password"],
                                 headers={"User-Agent": "cli-test/1"}), 200)
    sid1 = jwt_decode(u["access_token"])[1]["sid"]
    sid2 = jwt_decode(s2["access_token"])[1]["sid"]
    listed = items(ok_json(usherctl("--json", "sessions", "list",
                                    u["email"])))
    assert {x["id"] for x in listed} == {sid1, sid2}
    for x in listed:
        assert "created_at" in x and "ip" in x and "user_agent" in x
        text = json.dumps(x)
        assert u["refresh_token"] not in text and "hash" not in text
    assert [x for x in listed if x["id"] == sid2][0]["user_agent"] \
        == "cli-test/1"
    p = usherctl("sessions", "revoke", sid2)
    assert p.returncode == 0, p.stderr
    assert_unauthorized(api.get("/v1/me", token=s2["access_token"]))
    r = api.post("/v1/auth/refresh", json={"refresh_token": s2["refresh_token"]})
    assert_problem(r, 401, {"invalid_refresh_token", "refresh_token_reused"})
    assert api.get("/v1/me", token=u["access_token"]).status_code == 200
    listed = items(ok_json(usherctl("--json", "sessions", "list", u["user"]["id"])))
    assert {x["id"] for x in listed} == {sid1}
    # Revoking it again: not an active session any more.
    p = usherctl("sessions", "revoke", sid2)
    assert p.returncode in (0, 3), (p.returncode, p.stderr)


def test_sessions_revoke_all_of_user(usherctl, api, new_user, login):
    u = new_user()
    other = new_user()
    s2 = assert_token_pair(login(u["email"], u["password"]), 200)
    p = usherctl("sessions", "revoke", "--user", u["email"])
    assert p.returncode == 0, p.stderr
    for s in (u, s2):
        assert_unauthorized(api.get("/v1/me", token=s["access_token"]))
    assert api.get("/v1/me", token=other["access_token"]).status_code == 200
    assert items(ok_json(usherctl("--json", "sessions", "list",
                                  u["email"]))) == []


# ------------------------------------------------------------------ keys

def test_keys_list_matches_jwks(usherctl, api, new_user):
    p = usherctl("--json", "keys", "list")
    keys = items(ok_json(p))
    assert keys, "no signing key"
    assert "PRIVATE" not in p.stdout and "private" not in p.stdout.lower()
    for k in keys:
        assert k.get("kid") and k.get("alg") in ("ES256", "RS256"), k
        assert k.get("state") in ("next", "current", "previous", "retired"), k
    current = [k for k in keys if k["state"] == "current"]
    assert len(current) == 1, keys
    r = api.get("/.well-known/jwks.json")
    assert r.status_code == 200, describe(r)
    published = {k["kid"] for k in r.json()["keys"]}
    listed = {k["kid"] for k in keys if k["state"] != "retired"}
    assert current[0]["kid"] in published
    assert published == listed, "JWKS publishes the keys not retired"
    u = new_user()
    assert jwt_decode(u["access_token"])[0]["kid"] == current[0]["kid"]
    # text output
    p = usherctl("keys", "list")
    assert p.returncode == 0 and current[0]["kid"] in p.stdout
