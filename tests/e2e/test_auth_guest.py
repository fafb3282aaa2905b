"""POST /v1/auth/guest and POST /v1/me/upgrade."""

import json

import pytest

from helpers import (assert_field_error, assert_problem, assert_token_pair,
                     assert_unauthorized, assert_user, count_users_email,
                     count_users_marked, describe, fresh_ip, jwt_decode,
                     marker, strong_password, unique_email)

GUEST = "/v1/auth/guest"
UPGRADE = "/v1/me/upgrade"
JSON_CT = {"Content-Type": "application/json"}


def make_guest(api, ip=None):
    r = api.post(GUEST, ip=ip or fresh_ip())
    body = assert_token_pair(r, 201)
    return body


def assert_still_guest(api, g):
    me = api.get("/v1/me", token=g["access_token"])
    assert me.status_code == 200, describe(me)
    assert_user(me.json(), id=g["user"]["id"], role="guest", email=None)


def upgrade(api, g, body, **kw):
    return api.post(UPGRADE, json=body, token=g["access_token"],
                    ip=fresh_ip(), **kw)


# ---------------------------------------------------------------- guest

def test_guest_rate_limited_per_address(api):
    ip = fresh_ip()
    ids = set()
    for i in range(10):
        r = api.post(GUEST, ip=ip)
        ids.add(assert_token_pair(r, 201)["user"]["id"])
    assert len(ids) == 10
    r = api.post(GUEST, ip=ip)
    assert_problem(r, 429, "rate_limited")
    ra = r.headers.get("Retry-After", "")
    assert ra.isdigit() and 0 < int(ra) <= 3600, ra
    assert "access_token" not in r.text
    make_guest(api)  # another address still may


def test_guest_creates_guest_account(api, db):
    r = api.post(GUEST)
    body = assert_token_pair(r, 201)
    u = assert_user(body["user"], role="guest", email=None, username=None,
                    email_verified=False, status="active")
    me = api.get("/v1/me", token=body["access_token"])
    assert me.status_code == 200, describe(me)
    assert_user(me.json(), id=u["id"], role="guest", email=None)
    _, claims, _ = jwt_decode(body["access_token"])
    assert claims["sub"] == u["id"] and claims["role"] == "guest"
    assert not claims.get("email")
    rows = db.query("SELECT count(*) FROM users WHERE id = $1", u["id"])
    assert int(rows[0][0]) == 1


def test_guest_with_empty_json_body(api):
    r = api.post(GUEST, data=b"{}", headers=JSON_CT)
    assert_token_pair(r, 201)


def test_guest_each_call_new_account(api):
    a = api.post(GUEST)
    b = api.post(GUEST)
    ua = assert_token_pair(a, 201)["user"]
    ub = assert_token_pair(b, 201)["user"]
    assert ua["id"] != ub["id"]


def test_guest_may_edit_own_account(api):
    g = make_guest(api)
    r = api.patch("/v1/me", json={"display_name": "Guest Player"},
                  token=g["access_token"])
    assert r.status_code == 200, describe(r)
    assert_user(r.json(), display_name="Guest Player", role="guest")


def test_guest_refresh_works(api):
    g = make_guest(api)
    r = api.post("/v1/auth/refresh", json={"refresh_token": g["refresh_token"]})
    body = assert_token_pair(r, 200, user=g["user"])
    assert body["user"]["role"] == "guest"


# ---------------------------------------------------------- upgrade: bad

def test_upgrade_requires_token(api):
    r = api.post(UPGRADE, json={"email": unique_email(),
                                "password": strong_password()})
    assert_unauthorized(r)


def test_upgrade_garbage_token(api):
    r = api.post(UPGRADE, json={"email": unique_email(),
                                "password": strong_password()},
                 token="garbage.token.here")
    assert_unauthorized(r)


BAD = [
    ("missing-email", lambda t: {"password": strong_password()},
     "email", {"required"}, {"validation_failed"}),
    ("missing-password", lambda t: {"email": unique_email(t)},
     "password", {"required"}, {"validation_failed"}),
    ("invalid-email", lambda t: {"email": t + "@", "password": strong_password()},
     "email", {"invalid_email", "invalid_format"}, None),
    ("crlf-email", lambda t: {"email": unique_email(t) + "\r\nBcc: x@y.test",
                              "password": strong_password()},
     "email", {"invalid_email", "invalid_format"}, None),
    ("weak-short", lambda t: {"email": unique_email(t), "password": "Ab1!xyz"},
     "password", {"weak_password", "too_short"}, None),
    ("weak-common", lambda t: {"email": unique_email(t),
                               "password": "password123"},
     "password", {"weak_password"}, None),
    ("weak-1025", lambda t: {"email": unique_email(t), "password": "y" * 1025},
     "password", {"weak_password", "too_long"}, None),
    ("invalid-username", lambda t: {"email": unique_email(t),
                                    "password": strong_password(),
                                    "username": "-" + t},
     "username", {"invalid_username", "invalid_format"}, None),
    ("long-username", lambda t: {"email": unique_email(t),
                                 "password": strong_password(),
                                 "username": t + "x" * 40},
     "username", {"invalid_username", "invalid_format", "too_long"}, None),
    ("email-number", lambda t: {"email": 12, "password": strong_password(),
                                "username": "u" + t},
     "email", {"invalid_type"}, {"validation_failed"}),
    ("email-array", lambda t: {"email": [unique_email(t)],
                               "password": strong_password()},
     "email", {"invalid_type"}, {"validation_failed"}),
    ("password-object", lambda t: {"email": unique_email(t),
                                   "password": {"p": strong_password()}},
     "password", {"invalid_type"}, {"validation_failed"}),
    ("password-bool", lambda t: {"email": unique_email(t), "password": True},
     "password", {"invalid_type"}, {"validation_failed"}),
    ("username-number", lambda t: {"email": unique_email(t),
                                   "password": strong_password(),
                                   "username": 5},
     "username", {"invalid_type"}, {"validation_failed"}),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_upgrade_bad_input(api, db, case):
    _, make, field, codes, top = case
    g = make_guest(api)
    tag = marker()
    r = upgrade(api, g, make(tag))
    assert_field_error(r, field, codes, top)
    assert_still_guest(api, g)
    assert count_users_marked(db, tag) == 0


@pytest.mark.parametrize("raw", [
    b"", b"{", b'{"email":"a@example.test",}', b'{"email":"a\xff@x.test"}',
    b'{"email":"a@example.test","email":"b@example.test","password":"pw-pw-pw-pw"}',
    b'[]',
], ids=["empty", "truncated", "trailing-comma", "bad-utf8", "duplicate",
        "array"])
def test_upgrade_malformed_json(api, raw):
    g = make_guest(api)
    r = api.post(UPGRADE, data=raw, headers=JSON_CT, token=g["access_token"],
                 ip=fresh_ip())
    assert_problem(r, 400, {"invalid_json"} if raw != b"[]"
                   else {"invalid_json", "validation_failed"})
    assert_still_guest(api, g)


def test_upgrade_wrong_content_type(api, db):
    g = make_guest(api)
    tag = marker()
    r = api.post(UPGRADE, data=json.dumps({"email": unique_email(tag),
                                           "password": strong_password()}),
                 headers={"Content-Type": "text/plain"},
                 token=g["access_token"], ip=fresh_ip())
    assert_problem(r, 415, "unsupported_media_type")
    assert_still_guest(api, g)
    assert count_users_marked(db, tag) == 0


def test_upgrade_email_taken(api, new_user):
    u = new_user()
    g = make_guest(api)
    r = upgrade(api, g, {"email": u["email"].upper(),
                         "password": strong_password()})
    assert_problem(r, 409, "email_taken")
    assert_still_guest(api, g)


def test_upgrade_username_taken(api, new_user, db):
    u = new_user()
    g = make_guest(api)
    email = unique_email()
    r = upgrade(api, g, {"email": email, "password": strong_password(),
                         "username": u["username"].upper()})
    assert_problem(r, 409, "username_taken")
    assert_still_guest(api, g)
    assert count_users_email(db, email) == 0


def _documented_upgrade_statuses(api):
    r = api.get("/v1/openapi.json")
    try:
        op = r.json()["paths"][UPGRADE]["post"]
        codes = {int(k) for k in op["responses"] if k.isdigit()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return codes & {403, 409} or None


def _assert_not_guest_refused(api, r):
    documented = _documented_upgrade_statuses(api)
    if documented:
        assert r.status_code in documented, \
            "documented %s: %s" % (sorted(documented), describe(r))
        assert_problem(r, r.status_code)
    else:
        assert 400 <= r.status_code < 500, describe(r)
        assert_problem(r, r.status_code)


def test_upgrade_by_registered_user_refused(api, new_user):
    u = new_user()
    email = unique_email()
    r = api.post(UPGRADE, json={"email": email, "password": strong_password()},
                 token=u["access_token"], ip=fresh_ip())
    _assert_not_guest_refused(api, r)
    me = api.get("/v1/me", token=u["access_token"]).json()
    assert me["email"].lower() == u["email"].lower() and me["role"] == "user"


def test_upgrade_twice_refused(api, login):
    g = make_guest(api)
    email, pw = unique_email(), strong_password()
    r = upgrade(api, g, {"email": email, "password": pw})
    assert r.status_code == 200, describe(r)
    r = upgrade(api, g, {"email": unique_email(), "password": strong_password()})
    _assert_not_guest_refused(api, r)
    me = api.get("/v1/me", token=g["access_token"]).json()
    assert me["email"].lower() == email.lower()
    assert_token_pair(login(email, pw), 200, user=g["user"])


# ------------------------------------------------------ upgrade: success

def test_upgrade_success(api, db, login):
    g = make_guest(api)
    tag = marker()
    email, pw, username = unique_email(tag), strong_password(), "u" + tag
    r = upgrade(api, g, {"email": email, "password": pw, "username": username})
    assert r.status_code == 200, describe(r)
    u = assert_user(r.json(), id=g["user"]["id"], role="user", email=email,
                    username=username, status="active")
    assert pw not in r.text
    # The same account, seen through the guest's session.
    me = api.get("/v1/me", token=g["access_token"])
    assert me.status_code == 200, describe(me)
    assert_user(me.json(), id=u["id"], role="user", email=email)
    # The email and the username now log in to that account.
    assert_token_pair(login(email, pw), 200, user=u)
    assert_token_pair(login(username, pw), 200, user=u)
    # The guest's refresh token keeps working, now for a user.
    rr = api.post("/v1/auth/refresh", json={"refresh_token": g["refresh_token"]})
    body = assert_token_pair(rr, 200, user=u)
    assert body["user"]["role"] == "user"
    _, claims, _ = jwt_decode(body["access_token"])
    assert claims["role"] == "user"
    assert claims["email"].lower() == email.lower()
    assert count_users_email(db, email) == 1


def test_upgrade_without_username(api):
    g = make_guest(api)
    email = unique_email()
    r = upgrade(api, g, {"email": email, "password": strong_password()})
    assert r.status_code == 200, describe(r)
    assert_user(r.json(), id=g["user"]["id"], role="user", email=email,
                username=None)
