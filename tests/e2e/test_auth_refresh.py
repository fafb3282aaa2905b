"""POST /v1/auth/refresh: bad input, unknown tokens, rotation, the grace
replay, reuse revoking the session, and 20 parallel refreshes."""

import json
import secrets
import time

import pytest

from helpers import (REFRESH_GRACE, active_sessions, assert_field_error,
                     assert_problem, assert_token_pair, assert_unauthorized,
                     b64url_encode, describe, jwt_decode, parallel,
                     raw_request, tables_containing)

PATH = "/v1/auth/refresh"
JSON_CT = {"Content-Type": "application/json"}
BAD_REFRESH = {"invalid_refresh_token", "refresh_token_reused"}


def refresh(api, token, **kw):
    return api.post(PATH, json={"refresh_token": token}, **kw)


def sleep_past_grace():
    time.sleep(REFRESH_GRACE + 1.5)


def me_status(api, access):
    return api.get("/v1/me", token=access).status_code


# ------------------------------------------------------------ bad input

def test_refresh_missing_token(api):
    r = api.post(PATH, json={})
    assert_field_error(r, "refresh_token", "required", {"validation_failed"})


@pytest.mark.parametrize("value", [123, 1.5, ["x" * 43], {"t": "x"}, None,
                                   True, False],
                         ids=["number", "float", "array", "object", "null",
                              "true", "false"])
def test_refresh_wrong_type(api, new_user, value):
    u = new_user()
    r = api.post(PATH, json={"refresh_token": value})
    codes = {"invalid_type"} | ({"required"} if value is None else set())
    assert_field_error(r, "refresh_token", codes, {"validation_failed"})
    # The user's real token is unaffected.
    assert_token_pair(refresh(api, u["refresh_token"]), 200, user=u["user"])


@pytest.mark.parametrize("value", [
    "A" * 129, "A" * 5000, "", "!!!", "a b c", "\u00e9" * 43,
    "../../../etc/passwd", "' OR '1'='1' --", "Bearer " + "A" * 43,
    "A" * 42, "A" * 44, "=" * 43, "%00" * 15,
], ids=["129", "5000", "empty", "bang", "spaces", "non-ascii", "path", "sql",
        "bearer-prefix", "42", "44", "padding", "pct-nul"])
def test_refresh_garbage(api, value):
    r = refresh(api, value)
    if r.status_code == 400:
        assert_field_error(r, "refresh_token",
                           {"too_long", "invalid_format", "required",
                            "too_short"}, {"validation_failed"})
    else:
        assert_problem(r, 401, "invalid_refresh_token")
    assert "access_token" not in r.text


@pytest.mark.parametrize("raw", [
    b"", b"{", b'{"refresh_token":"x",}', b"{'refresh_token':'x'}",
    b'{"refresh_token":"a","refresh_token":"b"}', b'{"refresh_token":"\xff"}',
    b'{"refresh_token":"x"}garbage',
], ids=["empty", "truncated", "trailing-comma", "single-quotes", "duplicate",
        "bad-utf8", "garbage"])
def test_refresh_malformed_json(api, raw):
    r = api.post(PATH, data=raw, headers=JSON_CT)
    assert_problem(r, 400, "invalid_json")


def test_refresh_wrong_content_type(api, new_user):
    u = new_user()
    r = api.post(PATH, data=json.dumps({"refresh_token": u["refresh_token"]}),
                 headers={"Content-Type": "text/plain"})
    assert_problem(r, 415, "unsupported_media_type")
    # Not consumed: the token still rotates normally.
    assert_token_pair(refresh(api, u["refresh_token"]), 200, user=u["user"])


def test_refresh_unknown_token(api):
    token = b64url_encode(secrets.token_bytes(32))
    assert len(token) == 43
    r = refresh(api, token)
    assert_problem(r, 401, "invalid_refresh_token")


def test_refresh_with_access_token(api, new_user):
    u = new_user()
    r = refresh(api, u["access_token"])
    assert r.status_code in (400, 401), describe(r)
    assert_problem(r, r.status_code,
                   {"invalid_refresh_token", "validation_failed"})


def test_refresh_token_one_char_changed(api, new_user):
    u = new_user()
    t = u["refresh_token"]
    other = t[:-1] + ("A" if t[-1] != "A" else "B")
    assert_problem(refresh(api, other), 401, "invalid_refresh_token")
    # A near-miss is not a replay: the session survives.
    assert me_status(api, u["access_token"]) == 200
    assert_token_pair(refresh(api, t), 200, user=u["user"])


# ------------------------------------------------------------- rotation

def test_refresh_rotation_grace_and_reuse(api, new_user, login):
    u = new_user()
    other = assert_token_pair(login(u["email"], u["password"]), 200)
    r0, a0 = u["refresh_token"], u["access_token"]
    _, c0, _ = jwt_decode(a0)

    first = assert_token_pair(refresh(api, r0), 200, user=u["user"])
    r1, a1 = first["refresh_token"], first["access_token"]
    assert r1 != r0 and a1 != a0
    _, c1, _ = jwt_decode(a1)
    assert c1["sid"] == c0["sid"], "rotation must keep the session"
    assert c1["jti"] != c0["jti"]
    assert me_status(api, a1) == 200

    # Within the grace: the lost-response retry gets the SAME pair.
    again = assert_token_pair(refresh(api, r0), 200, user=u["user"])
    assert again["refresh_token"] == r1
    assert again["access_token"] == a1

    # After the grace: reuse. 401, and the whole session is revoked.
    sleep_past_grace()
    r = refresh(api, r0)
    assert_problem(r, 401, "refresh_token_reused")
    assert "access_token" not in r.text
    assert_problem(refresh(api, r1), 401, BAD_REFRESH)
    assert_unauthorized(api.get("/v1/me", token=a1))
    assert_unauthorized(api.get("/v1/me", token=a0))
    # Another session of the same user is untouched.
    assert me_status(api, other["access_token"]) == 200
    assert_token_pair(refresh(api, other["refresh_token"]), 200,
                      user=u["user"])


def test_refresh_token_not_stored_in_plaintext(api, db, new_user):
    u = new_user()
    body = assert_token_pair(refresh(api, u["refresh_token"]), 200)
    for t in (u["refresh_token"], body["refresh_token"]):
        assert tables_containing(db, t) == [], "refresh token in plaintext"
    # The stored new pair (for the grace replay) is not readable either.
    assert tables_containing(db, body["access_token"]) == []
    assert tables_containing(db, body["access_token"].split(".")[2]) == []


def test_refresh_replay_of_older_token_is_reuse(api, new_user):
    """Only the token just rotated may be replayed; an older one is reuse
    even inside the grace period."""
    u = new_user()
    r0 = u["refresh_token"]
    p1 = assert_token_pair(refresh(api, r0), 200)
    p2 = assert_token_pair(refresh(api, p1["refresh_token"]), 200)
    # r1 was just rotated: its replay answers p2.
    again = assert_token_pair(refresh(api, p1["refresh_token"]), 200)
    assert again["refresh_token"] == p2["refresh_token"]
    # r0 is two rotations old: reuse, session revoked.
    assert_problem(refresh(api, r0), 401, "refresh_token_reused")
    assert_problem(refresh(api, p2["refresh_token"]), 401, BAD_REFRESH)
    assert_unauthorized(api.get("/v1/me", token=p2["access_token"]))


def test_refresh_chain(api, new_user):
    u = new_user()
    tok = u["refresh_token"]
    seen = {tok}
    sids = set()
    for _ in range(5):
        p = assert_token_pair(refresh(api, tok), 200, user=u["user"])
        tok = p["refresh_token"]
        assert tok not in seen
        seen.add(tok)
        sids.add(jwt_decode(p["access_token"])[1]["sid"])
        assert me_status(api, p["access_token"]) == 200
    assert len(sids) == 1


def test_refresh_after_logout_fails(api, new_user):
    u = new_user()
    r = api.post("/v1/auth/logout", token=u["access_token"])
    assert r.status_code == 204, describe(r)
    assert_problem(refresh(api, u["refresh_token"]), 401, BAD_REFRESH)


def test_refresh_rate_limited_per_session(api, new_user):
    u = new_user()
    tok = u["refresh_token"]
    last = None
    for i in range(40):
        last = refresh(api, tok)
        if last.status_code != 200:
            break
        tok = last.json()["refresh_token"]
    assert i >= 30, "limited after only %d refreshes: %s" % (i, describe(last))
    assert_problem(last, 429, "rate_limited")
    ra = last.headers.get("Retry-After", "")
    assert ra.isdigit() and 0 < int(ra) <= 60, ra


def test_refresh_parallel_one_token(api, base_url, client_ip, db, new_user):
    u = new_user()
    r0 = u["refresh_token"]

    def go(i):
        return raw_request(base_url, "POST", PATH, {"refresh_token": r0},
                           ip=client_ip)
    results = parallel(20, go)
    ok = [r for r in results if r.status_code == 200]
    assert ok, "no parallel refresh succeeded: %s" % describe(results[0])
    bodies = [assert_token_pair(r, 200, user=u["user"]) for r in ok]
    assert len({b["refresh_token"] for b in bodies}) == 1, \
        "parallel refreshes returned different refresh tokens"
    assert len({b["access_token"] for b in bodies}) == 1, \
        "parallel refreshes returned different access tokens"
    for r in results:
        if r.status_code != 200:
            # Contention may be refused, but never as reuse (which would
            # have revoked the session) and never as a server error.
            assert_problem(r, r.status_code, {"rate_limited", "conflict"})
    r1 = bodies[0]["refresh_token"]
    a1 = bodies[0]["access_token"]
    assert me_status(api, a1) == 200
    # The one returned token works once more, and the chain goes on.
    p2 = assert_token_pair(refresh(api, r1), 200, user=u["user"])
    assert p2["refresh_token"] not in (r0, r1)
    assert me_status(api, p2["access_token"]) == 200
    p3 = assert_token_pair(refresh(api, p2["refresh_token"]), 200)
    assert me_status(api, p3["access_token"]) == 200
    # One session, seen by the API and in the database.
    s = api.get("/v1/me/sessions", token=p3["access_token"])
    assert s.status_code == 200, describe(s)
    assert len(s.json()["items"]) == 1, s.text
    assert active_sessions(db, u["user"]["id"]) == 1
