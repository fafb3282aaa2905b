"""/v1/me: GET, PATCH, PUT /v1/me/password, GET /v1/me/sessions,
DELETE /v1/me/sessions/{id}."""

import json
import uuid

import pytest

from helpers import (UUID_RE, assert_field_error, assert_no_secrets,
                     assert_problem, assert_time, assert_token_pair,
                     assert_unauthorized, assert_user, describe, fresh_ip,
                     jwt_decode, marker, strong_password, tables_containing)

JSON_CT = {"Content-Type": "application/json"}
BAD_REFRESH = {"invalid_refresh_token", "refresh_token_reused"}


def get_me(api, token):
    r = api.get("/v1/me", token=token)
    assert r.status_code == 200, describe(r)
    return r.json()


def patch(api, u, body):
    return api.patch("/v1/me", json=body, token=u["access_token"])


def assert_dead(api, s):
    assert_unauthorized(api.get("/v1/me", token=s["access_token"]))
    r = api.post("/v1/auth/refresh", json={"refresh_token": s["refresh_token"]})
    assert_problem(r, 401, BAD_REFRESH)


# ------------------------------------------------------------ GET /v1/me

def test_me_requires_token(api):
    assert_unauthorized(api.get("/v1/me"))


def test_me_returns_own_account(api, new_user):
    u = new_user(display_name="Me Myself", locale="ru")
    r = api.get("/v1/me", token=u["access_token"])
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Content-Type", "").startswith("application/json")
    me = assert_user(r.json(), id=u["user"]["id"], email=u["email"],
                     username=u["username"], display_name="Me Myself",
                     locale="ru", role="user", status="active")
    assert me == u["user"]
    assert_no_secrets(r.json(), u["password"])


# ---------------------------------------------------------- PATCH: failures

def test_patch_requires_token(api):
    assert_unauthorized(api.patch("/v1/me", json={"display_name": "x"}))


BAD_PATCH = [
    ("display_name", "", {"invalid_display_name", "too_short",
                          "invalid_format"}),
    ("display_name", "a\u0007b", {"invalid_display_name", "invalid_format"}),
    ("display_name", "a\nb", {"invalid_display_name", "invalid_format"}),
    ("display_name", "a\r\nb", {"invalid_display_name", "invalid_format"}),
    ("display_name", "x" * 65, {"invalid_display_name", "too_long"}),
    ("display_name", "\u044f" * 65, {"invalid_display_name", "too_long"}),
    ("display_name", 12, {"invalid_type"}),
    ("display_name", ["a"], {"invalid_type"}),
    ("display_name", {"a": 1}, {"invalid_type"}),
    ("display_name", True, {"invalid_type"}),
    ("username", "ab", {"invalid_username", "too_short", "invalid_format"}),
    ("username", "-abc", {"invalid_username", "invalid_format"}),
    ("username", "a b c", {"invalid_username", "invalid_format"}),
    ("username", "a@bcd", {"invalid_username", "invalid_format"}),
    ("username", "x" * 33, {"invalid_username", "too_long"}),
    ("username", "\u044e\u0437\u0435\u0440", {"invalid_username",
                                              "invalid_format"}),
    ("username", "abc'--", {"invalid_username", "invalid_format"}),
    ("username", "", {"invalid_username", "too_short", "invalid_format"}),
    ("username", 7, {"invalid_type"}),
    ("username", ["abc"], {"invalid_type"}),
    ("username", False, {"invalid_type"}),
    ("locale", "de", {"invalid_locale", "invalid_format"}),
    ("locale", "", {"invalid_locale", "invalid_format"}),
    ("locale", "en-US", {"invalid_locale", "invalid_format", "too_long"}),
    ("locale", "english", {"invalid_locale", "invalid_format", "too_long"}),
    ("locale", 1, {"invalid_type"}),
    ("locale", ["en"], {"invalid_type"}),
    ("profile", "bio", {"invalid_type"}),
    ("profile", [1, 2], {"invalid_type"}),
    ("profile", 1, {"invalid_type"}),
    ("profile", True, {"invalid_type"}),
    ("profile", {"bio": "x" * 9000}, {"too_long", "invalid_format",
                                      "out_of_range"}),
]


@pytest.mark.parametrize("field,value,codes", BAD_PATCH,
                         ids=["%s-%d" % (c[0], i)
                              for i, c in enumerate(BAD_PATCH)])
def test_patch_bad_field(api, new_user, field, value, codes):
    u = new_user()
    before = get_me(api, u["access_token"])
    r = patch(api, u, {field: value})
    top = {"validation_failed"} if codes == {"invalid_type"} else None
    assert_field_error(r, field, codes, top)
    assert get_me(api, u["access_token"]) == before


def test_patch_bad_field_changes_nothing_else(api, new_user):
    u = new_user()
    before = get_me(api, u["access_token"])
    r = patch(api, u, {"display_name": "Good Name", "locale": "xx",
                       "profile": {"bio": "changed"}})
    assert_field_error(r, "locale", {"invalid_locale", "invalid_format"})
    assert get_me(api, u["access_token"]) == before


@pytest.mark.parametrize("raw", [
    b"", b"{", b'{"display_name":"x",}', b'{"display_name":"a\xffb"}',
    b'{"display_name":"a","display_name":"b"}',
    b'{"display_name":"a\\u0000b"}',
    b'{"profile":' + b'{"a":' * 100 + b"1" + b"}" * 100 + b"}",
    b'{"display_name":"x"} {}', b"[]", b'"x"',
], ids=["empty", "truncated", "trailing-comma", "bad-utf8", "duplicate",
        "nul", "depth-100", "trailing", "array", "string"])
def test_patch_malformed_json(api, new_user, raw):
    u = new_user()
    before = get_me(api, u["access_token"])
    r = api.patch("/v1/me", data=raw, headers=JSON_CT, token=u["access_token"])
    codes = {"invalid_json", "validation_failed"} \
        if raw in (b"[]", b'"x"', b"") or b"\\u0000" in raw \
        else {"invalid_json"}
    if raw == b"" and r.status_code == 200:
        pass  # an empty PATCH body may mean "no change"
    else:
        assert_problem(r, 400, codes)
    assert get_me(api, u["access_token"]) == before


def test_patch_wrong_content_type(api, new_user):
    u = new_user()
    before = get_me(api, u["access_token"])
    r = api.patch("/v1/me", data=json.dumps({"display_name": "New"}),
                  headers={"Content-Type": "text/plain"},
                  token=u["access_token"])
    assert_problem(r, 415, "unsupported_media_type")
    assert get_me(api, u["access_token"]) == before


def test_patch_body_too_large(api, new_user):
    u = new_user()
    before = get_me(api, u["access_token"])
    r = api.patch("/v1/me", data=json.dumps({"display_name": "New",
                                             "pad": "x" * 70000}),
                  headers=JSON_CT, token=u["access_token"])
    assert_problem(r, 413, "payload_too_large")
    assert get_me(api, u["access_token"]) == before


def test_patch_username_taken(api, new_user, login):
    a = new_user()
    b = new_user()
    before = get_me(api, b["access_token"])
    for name in (a["username"], a["username"].upper()):
        r = patch(api, b, {"username": name})
        assert_problem(r, 409, "username_taken")
    assert get_me(api, b["access_token"]) == before
    assert_token_pair(login(a["username"], a["password"]), 200,
                      user=a["user"])


def test_patch_privileged_fields_ignored(api, new_user):
    u = new_user()
    before = get_me(api, u["access_token"])
    r = patch(api, u, {"role": "admin", "email": "x" + u["email"],
                       "email_verified": True, "status": "disabled",
                       "id": str(uuid.uuid4()), "avatar_url": "http://evil/",
                       "created_at": "2000-01-01T00:00:00Z"})
    if r.status_code == 200:
        after = get_me(api, u["access_token"])
        for k in ("id", "role", "email", "email_verified", "status",
                  "avatar_url", "created_at"):
            assert after[k] == before[k], k
    else:
        assert_problem(r, 400)
        assert get_me(api, u["access_token"]) == before


# ----------------------------------------------------------- PATCH: success

def test_patch_display_name(api, new_user):
    u = new_user()
    name = "Zo\u00eb \u042f\u0441\u043d\u0430 \U0001F3AE"
    r = patch(api, u, {"display_name": name})
    assert r.status_code == 200, describe(r)
    assert_user(r.json(), id=u["user"]["id"], display_name=name)
    assert get_me(api, u["access_token"])["display_name"] == name
    # null clears it
    r = patch(api, u, {"display_name": None})
    assert r.status_code == 200, describe(r)
    assert r.json()["display_name"] is None
    assert get_me(api, u["access_token"])["display_name"] is None


def test_patch_display_name_64_chars(api, new_user):
    u = new_user()
    r = patch(api, u, {"display_name": "\u0436" * 64})
    assert r.status_code == 200, describe(r)
    assert get_me(api, u["access_token"])["display_name"] == "\u0436" * 64


def test_patch_username(api, new_user, login):
    u = new_user()
    new = "n" + marker()
    r = patch(api, u, {"username": new})
    assert r.status_code == 200, describe(r)
    assert_user(r.json(), username=new)
    assert get_me(api, u["access_token"])["username"].lower() == new.lower()
    assert_token_pair(login(new, u["password"]), 200, user=u["user"])
    assert_problem(login(u["username"], u["password"]), 401,
                   "invalid_credentials")
    # The old name is free again.
    v = new_user(username=u["username"])
    assert v["user"]["username"].lower() == u["username"].lower()


def test_patch_username_own_in_other_case(api, new_user):
    u = new_user()
    r = patch(api, u, {"username": u["username"].upper()})
    assert r.status_code == 200, describe(r)
    assert r.json()["username"].lower() == u["username"].lower()


@pytest.mark.parametrize("locale", ["uk", "ru", "en"])
def test_patch_locale(api, new_user, locale):
    u = new_user(locale="en" if locale != "en" else "uk")
    r = patch(api, u, {"locale": locale})
    assert r.status_code == 200, describe(r)
    assert r.json()["locale"] == locale
    assert get_me(api, u["access_token"])["locale"] == locale


def test_patch_profile(api, new_user):
    u = new_user()
    profile = {"bio": "Support main, \u0443\u043a\u0440\u0430\u0457\u043d\u0441\u044c\u043a\u0430",
               "looking_for_team": True, "languages": ["en", "uk"],
               "region": "eu"}
    r = patch(api, u, {"profile": profile})
    assert r.status_code == 200, describe(r)
    got = r.json()["profile"]
    for k, v in profile.items():
        assert got.get(k) == v, (k, got)
    stored = get_me(api, u["access_token"])["profile"]
    for k, v in profile.items():
        assert stored.get(k) == v, (k, stored)
    r = patch(api, u, {"profile": {"bio": "changed", "region": "na"}})
    assert r.status_code == 200, describe(r)
    stored = get_me(api, u["access_token"])["profile"]
    assert stored.get("bio") == "changed" and stored.get("region") == "na"


def test_patch_several_fields_and_empty(api, new_user):
    u = new_user()
    r = patch(api, u, {"display_name": "Both", "locale": "uk",
                       "unknown_field": 1})
    assert r.status_code == 200, describe(r)
    assert_user(r.json(), display_name="Both", locale="uk")
    before = get_me(api, u["access_token"])
    r = patch(api, u, {})
    assert r.status_code == 200, describe(r)
    assert_user(r.json(), display_name="Both", locale="uk")
    after = get_me(api, u["access_token"])
    for k in ("display_name", "locale", "username", "email", "profile"):
        assert after[k] == before[k]


# -------------------------------------------------- PUT /v1/me/password

PW = "/v1/me/password"


def test_password_requires_token(api):
    assert_unauthorized(api.put(PW, json={"current_password": "x" * 10,
                                          "new_password": strong_password()}))


def test_password_wrong_current(api, new_user, login):
    u = new_user()
    r = api.put(PW, json={"current_password": strong_password(),
                          "new_password": strong_password()},
                token=u["access_token"])
    assert_problem(r, 401, "invalid_credentials")
    assert get_me(api, u["access_token"])["id"] == u["user"]["id"]
    assert_token_pair(login(u["email"], u["password"]), 200)


@pytest.mark.parametrize("new", ["short1!", "password123", "PASSWORD123",
                                 "z" * 1025, "", "\u00e9" * 7],
                         ids=["short", "common", "common-upper", "1025",
                              "empty", "7-multibyte"])
def test_password_weak_new(api, new_user, login, new):
    u = new_user()
    r = api.put(PW, json={"current_password": u["password"],
                          "new_password": new}, token=u["access_token"])
    assert_field_error(r, "new_password", {"weak_password", "too_long",
                                           "too_short", "required"},
                       {"weak_password", "validation_failed"})
    assert_token_pair(login(u["email"], u["password"]), 200)


@pytest.mark.parametrize("body,field,codes", [
    ({}, "current_password", {"required"}),
    ({"current_password": "x" * 10}, "new_password", {"required"}),
    ({"new_password": "Pw-abcdefghijkl"}, "current_password", {"required"}),
    ({"current_password": 1, "new_password": "Pw-abcdefghijkl"},
     "current_password", {"invalid_type"}),
    ({"current_password": "x" * 10, "new_password": ["Pw-abcdefghijkl"]},
     "new_password", {"invalid_type"}),
    ({"current_password": "x" * 10, "new_password": None},
     "new_password", {"invalid_type", "required"}),
], ids=["empty", "no-new", "no-current", "current-number", "new-array",
        "new-null"])
def test_password_bad_body(api, new_user, login, body, field, codes):
    u = new_user()
    body = dict(body)
    if body.get("current_password") == "x" * 10:
        body["current_password"] = u["password"]
    r = api.put(PW, json=body, token=u["access_token"])
    assert_field_error(r, field, codes, {"validation_failed"})
    assert_token_pair(login(u["email"], u["password"]), 200)


@pytest.mark.parametrize("raw", [b"", b"{", b'{"current_password":"a",}',
                                 b'{"current_password":"\xff"}'],
                         ids=["empty", "truncated", "trailing-comma",
                              "bad-utf8"])
def test_password_malformed_json(api, new_user, raw):
    u = new_user()
    r = api.put(PW, data=raw, headers=JSON_CT, token=u["access_token"])
    assert_problem(r, 400, "invalid_json")


def test_password_wrong_content_type(api, new_user, login):
    u = new_user()
    new = strong_password()
    r = api.put(PW, data=json.dumps({"current_password": u["password"],
                                     "new_password": new}),
                headers={"Content-Type": "text/plain"},
                token=u["access_token"])
    assert_problem(r, 415, "unsupported_media_type")
    assert_problem(login(u["email"], new), 401, "invalid_credentials")


def test_password_change(api, db, new_user, login):
    u = new_user()
    s2 = assert_token_pair(login(u["email"], u["password"]), 200)
    s3 = assert_token_pair(login(u["username"], u["password"]), 200)
    new = strong_password()
    r = api.put(PW, json={"current_password": u["password"],
                          "new_password": new}, token=u["access_token"])
    assert r.status_code == 204, describe(r)
    assert r.content == b""
    # The current session goes on, access and refresh.
    assert get_me(api, u["access_token"])["id"] == u["user"]["id"]
    p = assert_token_pair(api.post("/v1/auth/refresh", json={
        "refresh_token": u["refresh_token"]}), 200, user=u["user"])
    assert get_me(api, p["access_token"])["id"] == u["user"]["id"]
    # Every other session is revoked.
    assert_dead(api, s2)
    assert_dead(api, s3)
    # Old password out, new password in.
    assert_problem(login(u["email"], u["password"]), 401,
                   "invalid_credentials")
    assert_token_pair(login(u["email"], new), 200, user=u["user"])
    assert tables_containing(db, new) == []


# ------------------------------------------------- GET /v1/me/sessions

SESSIONS = "/v1/me/sessions"


def test_sessions_requires_token(api):
    assert_unauthorized(api.get(SESSIONS))


def test_sessions_list(api, new_user, login):
    u = new_user()
    other = new_user()
    ip2 = fresh_ip()
    ua2 = "usher-e2e-agent/2 (" + marker() + ")"
    s2 = assert_token_pair(login(u["email"], u["password"], ip=ip2,
                                 headers={"User-Agent": ua2}), 200)
    r = api.get(SESSIONS, token=u["access_token"])
    assert r.status_code == 200, describe(r)
    body = r.json()
    assert isinstance(body, dict) and isinstance(body.get("items"), list), body
    if "next_cursor" in body:
        assert body["next_cursor"] is None
    items = body["items"]
    assert len(items) == 2, items
    assert_no_secrets(body)
    assert u["refresh_token"] not in r.text and s2["refresh_token"] not in r.text
    for it in items:
        assert {"id", "created_at", "last_used_at", "user_agent", "ip",
                "current"} <= set(it), it
        assert UUID_RE.match(it["id"]), it
        assert_time(it["created_at"])
        assert_time(it["last_used_at"])
        assert it["user_agent"] is None or isinstance(it["user_agent"], str)
        assert it["ip"] is None or isinstance(it["ip"], str)
        assert isinstance(it["current"], bool)
    current = [it for it in items if it["current"]]
    assert len(current) == 1, items
    sid1 = jwt_decode(u["access_token"])[1]["sid"]
    sid2 = jwt_decode(s2["access_token"])[1]["sid"]
    assert current[0]["id"] == sid1
    assert {it["id"] for it in items} == {sid1, sid2}
    second = [it for it in items if it["id"] == sid2][0]
    assert second["user_agent"] == ua2
    assert second["ip"] == ip2, "X-Forwarded-For from a trusted proxy"
    first = [it for it in items if it["id"] == sid1][0]
    assert first["ip"] == u["ip"]
    # Seen from the second session, that one is current.
    r = api.get(SESSIONS, token=s2["access_token"])
    cur = [it["id"] for it in r.json()["items"] if it["current"]]
    assert cur == [sid2]
    # Another user sees only their own.
    r = api.get(SESSIONS, token=other["access_token"])
    ids = {it["id"] for it in r.json()["items"]}
    assert ids.isdisjoint({sid1, sid2}) and len(ids) == 1


def test_sessions_long_user_agent_truncated(api, new_user, login):
    u = new_user()
    ua = "A" * 2000
    s = assert_token_pair(login(u["email"], u["password"],
                                headers={"User-Agent": ua}), 200)
    r = api.get(SESSIONS, token=s["access_token"])
    assert r.status_code == 200, describe(r)
    cur = [it for it in r.json()["items"] if it["current"]][0]
    assert cur["user_agent"] is None or (
        len(cur["user_agent"].encode()) <= 256
        and ua.startswith(cur["user_agent"]))


# ------------------------------------------- DELETE /v1/me/sessions/{id}

def test_delete_session_requires_token(api):
    assert_unauthorized(api.delete(SESSIONS + "/" + str(uuid.uuid4())))


def test_delete_session_unknown(api, new_user):
    u = new_user()
    r = api.delete(SESSIONS + "/" + str(uuid.uuid4()), token=u["access_token"])
    assert_problem(r, 404, "not_found")


@pytest.mark.parametrize("sid", [
    "not-a-uuid", "123", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
    "%27%20OR%20%271%27%3D%271", "x" * 300,
    "00000000-0000-0000-0000-00000000000",
])
def test_delete_session_malformed_id(api, new_user, sid):
    u = new_user()
    r = api.delete(SESSIONS + "/" + sid, token=u["access_token"])
    assert r.status_code in (400, 404), describe(r)
    assert_problem(r, r.status_code)
    assert get_me(api, u["access_token"])["id"] == u["user"]["id"]


def test_delete_session_of_another_user(api, new_user):
    a = new_user()
    b = new_user()
    sid_b = jwt_decode(b["access_token"])[1]["sid"]
    r = api.delete(SESSIONS + "/" + sid_b, token=a["access_token"])
    assert_problem(r, 404, "not_found")
    assert get_me(api, b["access_token"])["id"] == b["user"]["id"]


def test_delete_session(api, new_user, login):
    u = new_user()
    s2 = assert_token_pair(login(u["email"], u["password"]), 200)
    sid2 = jwt_decode(s2["access_token"])[1]["sid"]
    r = api.delete(SESSIONS + "/" + sid2, token=u["access_token"])
    assert r.status_code == 204, describe(r)
    assert r.content == b""
    assert_dead(api, s2)
    assert get_me(api, u["access_token"])["id"] == u["user"]["id"]
    items = api.get(SESSIONS, token=u["access_token"]).json()["items"]
    assert [it["id"] for it in items] == [jwt_decode(u["access_token"])[1]["sid"]]
    # Gone: a second delete is 404.
    r = api.delete(SESSIONS + "/" + sid2, token=u["access_token"])
    assert_problem(r, 404, "not_found")
