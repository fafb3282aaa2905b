"""POST /v1/auth/logout with the scopes session (default), others, all."""

import json

import pytest

from helpers import (assert_field_error, assert_problem, assert_token_pair,
                     assert_unauthorized, describe)

PATH = "/v1/auth/logout"
JSON_CT = {"Content-Type": "application/json"}
BAD_REFRESH = {"invalid_refresh_token", "refresh_token_reused"}


def sessions(new_user, login, n):
    """One user with n sessions (the registration's plus n-1 logins)."""
    u = new_user()
    out = [{"access_token": u["access_token"],
            "refresh_token": u["refresh_token"]}]
    for _ in range(n - 1):
        out.append(assert_token_pair(login(u["email"], u["password"]), 200))
    return u, out


def alive(api, s):
    return api.get("/v1/me", token=s["access_token"]).status_code == 200


def assert_dead(api, s):
    assert_unauthorized(api.get("/v1/me", token=s["access_token"]))
    r = api.post("/v1/auth/refresh", json={"refresh_token": s["refresh_token"]})
    assert_problem(r, 401, BAD_REFRESH)


# ---------------------------------------------------------------- failures

def test_logout_without_token(api):
    assert_unauthorized(api.post(PATH))
    assert_unauthorized(api.post(PATH, json={"scope": "all"}))


@pytest.mark.parametrize("auth", [
    "Bearer", "Bearer ", "Bearer garbage", "Basic dXNlcjpwYXNz", "garbage",
    "Bearer a.b.c",
])
def test_logout_bad_authorization(api, auth):
    assert_unauthorized(api.post(PATH, headers={"Authorization": auth}))


@pytest.mark.parametrize("scope", ["everything", "", "session ",
                                   "others,all", "sessions"])
def test_logout_invalid_scope(api, new_user, login, scope):
    u, ss = sessions(new_user, login, 2)
    r = api.post(PATH, json={"scope": scope}, token=ss[0]["access_token"])
    assert_field_error(r, "scope", {"invalid_format", "invalid_scope",
                                    "out_of_range", "invalid_value"},
                       {"validation_failed", "invalid_scope"})
    assert alive(api, ss[0]) and alive(api, ss[1])


@pytest.mark.parametrize("scope", [1, True, ["all"], {"s": "all"}],
                         ids=["number", "bool", "array", "object"])
def test_logout_scope_wrong_type(api, new_user, scope):
    u = new_user()
    r = api.post(PATH, json={"scope": scope}, token=u["access_token"])
    assert_field_error(r, "scope", "invalid_type", {"validation_failed"})
    assert alive(api, u)


@pytest.mark.parametrize("raw", [b"{", b'{"scope":"all",}', b"{'scope':'all'}",
                                 b'{"scope":"session","scope":"all"}'],
                         ids=["truncated", "trailing-comma", "single-quotes",
                              "duplicate"])
def test_logout_malformed_json(api, new_user, raw):
    u = new_user()
    r = api.post(PATH, data=raw, headers=JSON_CT, token=u["access_token"])
    assert_problem(r, 400, "invalid_json")
    assert alive(api, u)


def test_logout_wrong_content_type(api, new_user):
    u = new_user()
    r = api.post(PATH, data=json.dumps({"scope": "all"}),
                 headers={"Content-Type": "text/plain"},
                 token=u["access_token"])
    assert_problem(r, 415, "unsupported_media_type")
    assert alive(api, u)


def test_logout_with_refresh_token_as_bearer(api, new_user):
    u = new_user()
    assert_unauthorized(api.post(PATH, token=u["refresh_token"]))
    assert alive(api, u)


# ----------------------------------------------------------------- success

def test_logout_default_scope_is_session(api, new_user, login):
    u, ss = sessions(new_user, login, 3)
    r = api.post(PATH, token=ss[0]["access_token"])
    assert r.status_code == 204, describe(r)
    assert r.content == b""
    assert_dead(api, ss[0])
    assert alive(api, ss[1]) and alive(api, ss[2])
    # A second logout with the same token: the session is gone.
    assert_unauthorized(api.post(PATH, token=ss[0]["access_token"]))


def test_logout_empty_json_body_is_session(api, new_user, login):
    u, ss = sessions(new_user, login, 2)
    r = api.post(PATH, data=b"{}", headers=JSON_CT,
                 token=ss[0]["access_token"])
    assert r.status_code == 204, describe(r)
    assert_dead(api, ss[0])
    assert alive(api, ss[1])


def test_logout_scope_session(api, new_user, login):
    u, ss = sessions(new_user, login, 2)
    r = api.post(PATH, json={"scope": "session"}, token=ss[1]["access_token"])
    assert r.status_code == 204, describe(r)
    assert_dead(api, ss[1])
    assert alive(api, ss[0])


def test_logout_scope_others(api, new_user, login):
    u, ss = sessions(new_user, login, 3)
    other_user = new_user()
    r = api.post(PATH, json={"scope": "others"}, token=ss[1]["access_token"])
    assert r.status_code == 204, describe(r)
    assert alive(api, ss[1])
    assert_dead(api, ss[0])
    assert_dead(api, ss[2])
    # The current session keeps rotating.
    p = assert_token_pair(api.post("/v1/auth/refresh", json={
        "refresh_token": ss[1]["refresh_token"]}), 200, user=u["user"])
    assert api.get("/v1/me", token=p["access_token"]).status_code == 200
    listed = api.get("/v1/me/sessions", token=p["access_token"]).json()
    assert len(listed["items"]) == 1
    # Nobody else is logged out.
    assert alive(api, other_user)


def test_logout_scope_all(api, new_user, login):
    u, ss = sessions(new_user, login, 3)
    other_user = new_user()
    r = api.post(PATH, json={"scope": "all"}, token=ss[2]["access_token"])
    assert r.status_code == 204, describe(r)
    for s in ss:
        assert_dead(api, s)
    assert alive(api, other_user)
    # Logging in again works.
    fresh = assert_token_pair(login(u["email"], u["password"]), 200)
    assert alive(api, fresh)


def test_logout_then_login_again(api, new_user, login):
    u = new_user()
    r = api.post(PATH, token=u["access_token"])
    assert r.status_code == 204, describe(r)
    assert_dead(api, u)
    p = assert_token_pair(login(u["email"], u["password"]), 200,
                          user=u["user"])
    assert alive(api, p)
