"""POST /v1/auth/login: bad input, equal failures, disabled accounts,
backoff, then success by email and by username."""

import json

import pytest

from helpers import (assert_field_error, assert_no_secrets, assert_problem,
                     assert_token_pair, describe, fresh_ip, marker,
                     strip_request_specific, strong_password, unique_email)

PATH = "/v1/auth/login"
JSON_CT = {"Content-Type": "application/json"}
TYPE_VALUES = [123, 1.5, ["a"], {"a": 1}, None, True, False]
IGNORED_HEADERS = {"date", "x-request-id", "content-length", "connection",
                   "keep-alive", "server"}


def post(api, body, ip=None):
    return api.post(PATH, json=body, ip=ip or fresh_ip())


# ------------------------------------------------------------ bad input

@pytest.mark.parametrize("body,field", [
    ({}, "login"), ({}, "password"),
    ({"password": "x" * 12}, "login"),
    ({"login": "someone@example.test"}, "password"),
])
def test_login_missing_fields(api, body, field):
    r = post(api, body)
    assert_field_error(r, field, "required", {"validation_failed"})
    assert "access_token" not in r.text


@pytest.mark.parametrize("field", ["login", "password"])
@pytest.mark.parametrize("value", TYPE_VALUES,
                         ids=[type(v).__name__ + str(i)
                              for i, v in enumerate(TYPE_VALUES)])
def test_login_wrong_types(api, new_user, field, value):
    u = new_user()
    body = {"login": u["email"], "password": u["password"]}
    body[field] = value
    r = post(api, body)
    codes = {"invalid_type"} | ({"required"} if value is None else set())
    assert_field_error(r, field, codes, {"validation_failed"})
    assert "access_token" not in r.text


@pytest.mark.parametrize("field,value", [
    ("login", "a" * 255), ("login", "a" * 5000 + "@example.test"),
    ("password", "x" * 1025), ("password", "x" * 20000), ("login", ""),
    ("password", ""),
])
def test_login_overlong_or_empty_fields(api, new_user, field, value):
    """Too long or empty: a 400 field error or plain invalid credentials,
    never a token and never a 5xx."""
    u = new_user()
    body = {"login": u["email"], "password": u["password"]}
    body[field] = value
    r = post(api, body)
    if r.status_code == 401:
        assert_problem(r, 401, "invalid_credentials")
    else:
        assert_field_error(r, field, {"too_long", "required", "too_short",
                                      "invalid_format", "weak_password"},
                           {"validation_failed"})


@pytest.mark.parametrize("field", ["login", "password"])
def test_login_nul_in_field(api, new_user, field):
    u = new_user()
    body = {"login": u["email"], "password": u["password"]}
    body[field] = body[field] + "\u0000"
    r = post(api, body)
    if r.status_code == 401:
        assert_problem(r, 401, "invalid_credentials")
    else:
        assert_problem(r, 400, {"invalid_json", "validation_failed"})
    # A NUL must not cut the password short: the prefix before it is the
    # real password, which must not be accepted this way.
    assert "access_token" not in r.text


def test_login_password_with_nul_suffix_not_truncated(api, new_user):
    u = new_user()
    raw = json.dumps({"login": u["email"],
                      "password": u["password"] + "\u0000garbage"})
    r = api.post(PATH, data=raw, headers=JSON_CT, ip=fresh_ip())
    assert r.status_code in (400, 401), describe(r)
    assert_problem(r, r.status_code)
    assert "access_token" not in r.text


@pytest.mark.parametrize("raw", [
    b'{"login":"a@example.test","password":"xxxxxxxxxx",}',
    b'{"login":"a@example.test",/*c*/"password":"xxxxxxxxxx"}',
    b"{'login':'a@example.test','password':'xxxxxxxxxx'}",
    b'{"login":"a@example.test","password":"xxxxxxxxxx"}x',
    b'{"login":"a@example.test","password":"xxxxxxxxxx","n":NaN}',
    b'{"login":"a@example.test","login":"b@example.test","password":"xxxxxxxxxx"}',
    b'{"login":"a@example.test","password":"xxxxxxxxxx","d":'
    + b"[" * 100 + b"]" * 100 + b"}",
    b'{"login":"a\xff@example.test","password":"xxxxxxxxxx"}',
    b'{"login":"a@example.test","password":"xx\x00xxxxxxxx"}',
    b"", b"{", b"null",
], ids=["trailing-comma", "comment", "single-quotes", "garbage", "nan",
        "duplicate-key", "depth-100", "invalid-utf8", "raw-nul", "empty",
        "truncated", "null"])
def test_login_malformed_json(api, raw):
    r = api.post(PATH, data=raw, headers=JSON_CT, ip=fresh_ip())
    codes = {"invalid_json"} if raw != b"null" \
        else {"invalid_json", "validation_failed"}
    assert_problem(r, 400, codes)


@pytest.mark.parametrize("ctype", [None, "text/plain",
                                   "application/x-www-form-urlencoded"])
def test_login_wrong_content_type(api, new_user, ctype):
    u = new_user()
    raw = json.dumps({"login": u["email"], "password": u["password"]})
    r = api.post(PATH, data=raw, headers={"Content-Type": ctype} if ctype
                 else {}, ip=fresh_ip())
    assert_problem(r, 415, "unsupported_media_type")
    assert "access_token" not in r.text


def test_login_body_too_large(api, new_user):
    u = new_user()
    raw = json.dumps({"login": u["email"], "password": u["password"],
                      "pad": "p" * 70000})
    r = api.post(PATH, data=raw, headers=JSON_CT, ip=fresh_ip())
    assert_problem(r, 413, "payload_too_large")


# ------------------------------------------------------ equal failures

def _compare_failures(a, b):
    pa = assert_problem(a, 401, "invalid_credentials")
    pb = assert_problem(b, 401, "invalid_credentials")
    assert strip_request_specific(pa) == strip_request_specific(pb), \
        "bodies differ:\n%s\n%s" % (describe(a), describe(b))
    assert a.headers.get("Content-Type") == b.headers.get("Content-Type")
    ha = {k.lower() for k in a.headers} - IGNORED_HEADERS
    hb = {k.lower() for k in b.headers} - IGNORED_HEADERS
    assert ha == hb, "header names differ: %s" % sorted(ha ^ hb)
    assert "WWW-Authenticate" not in a.headers or \
        a.headers.get("WWW-Authenticate") == b.headers.get("WWW-Authenticate")


def test_login_unknown_email_equals_wrong_password(api, new_user):
    u = new_user()
    wrong = post(api, {"login": u["email"], "password": strong_password()})
    unknown = post(api, {"login": unique_email(),
                         "password": strong_password()})
    _compare_failures(wrong, unknown)


def test_login_unknown_username_equals_wrong_password(api, new_user):
    u = new_user()
    wrong = post(api, {"login": u["username"], "password": strong_password()})
    unknown = post(api, {"login": "nobody" + marker(),
                         "password": strong_password()})
    _compare_failures(wrong, unknown)


def test_login_weak_wrong_password_is_still_401(api, new_user):
    """Policy is for new passwords; a wrong short one is just wrong."""
    u = new_user()
    a = post(api, {"login": u["email"], "password": "short"})
    b = post(api, {"login": unique_email(), "password": "short"})
    _compare_failures(a, b)


def test_login_wrong_password_case(api, new_user):
    u = new_user()
    pw = u["password"]
    flipped = pw.swapcase()
    assert flipped != pw
    assert_problem(post(api, {"login": u["email"], "password": flipped}),
                   401, "invalid_credentials")
    assert_problem(post(api, {"login": u["email"], "password": pw + " "}),
                   401, "invalid_credentials")


# ------------------------------------------------------------ disabled

def test_login_disabled_account(api, new_user, usherctl):
    u = new_user()
    p = usherctl("user", "disable", u["email"])
    assert p.returncode == 0, p.stderr
    r = post(api, {"login": u["email"], "password": u["password"]})
    assert_problem(r, 403, "account_disabled")
    assert "access_token" not in r.text
    r = post(api, {"login": u["username"], "password": u["password"]})
    assert_problem(r, 403, "account_disabled")
    # Without the right password the account's state is not revealed.
    r = post(api, {"login": u["email"], "password": strong_password()})
    assert_problem(r, 401, "invalid_credentials")
    p = usherctl("user", "enable", u["email"])
    assert p.returncode == 0, p.stderr
    r = post(api, {"login": u["email"], "password": u["password"]})
    assert_token_pair(r, 200, user=u["user"])


# ------------------------------------------------------------- backoff

def _fail(api, login, n):
    for i in range(n):
        r = post(api, {"login": login, "password": strong_password()})
        assert_problem(r, 401, "invalid_credentials")


def _assert_backoff(r):
    assert_problem(r, 429, "rate_limited")
    ra = r.headers.get("Retry-After", "")
    assert ra.isdigit(), "Retry-After %r is not integer seconds" % ra
    assert 1 <= int(ra) <= 900, ra
    assert "access_token" not in r.text


def test_login_backoff_after_failures(api, new_user):
    u = new_user()
    _fail(api, u["email"], 5)
    r = post(api, {"login": u["email"], "password": u["password"]})
    _assert_backoff(r)
    # Another account is not affected.
    v = new_user()
    assert_token_pair(post(api, {"login": v["email"],
                                 "password": v["password"]}), 200)


def test_login_backoff_is_per_account_not_per_login_form(api, new_user):
    u = new_user()
    _fail(api, u["email"], 5)
    _assert_backoff(post(api, {"login": u["username"],
                               "password": u["password"]}))
    _assert_backoff(post(api, {"login": u["email"].upper(),
                               "password": u["password"]}))


def test_login_backoff_unknown_account_same_answer(api):
    """Failures on an unknown login back off like a known one, so the 429
    does not tell whether the account exists."""
    email = unique_email()
    _fail(api, email, 5)
    _assert_backoff(post(api, {"login": email,
                               "password": strong_password()}))


# ------------------------------------------------------------- success

def test_login_by_email(api, new_user):
    u = new_user()
    r = post(api, {"login": u["email"], "password": u["password"]})
    body = assert_token_pair(r, 200, user=u["user"])
    assert_no_secrets(body, u["password"])
    assert body["refresh_token"] != u["refresh_token"]
    assert body["access_token"] != u["access_token"]
    me = api.get("/v1/me", token=body["access_token"])
    assert me.status_code == 200 and me.json()["id"] == u["user"]["id"]


def test_login_by_email_other_case(api, new_user):
    u = new_user()
    for form in (u["email"].upper(), u["email"].lower()):
        r = post(api, {"login": form, "password": u["password"]})
        assert_token_pair(r, 200, user=u["user"])


def test_login_by_username(api, new_user):
    u = new_user()
    for form in (u["username"], u["username"].upper()):
        r = post(api, {"login": form, "password": u["password"]})
        assert_token_pair(r, 200, user=u["user"])


def test_login_with_fixture_and_unknown_fields(api, new_user, login):
    u = new_user()
    assert_token_pair(login(u["email"], u["password"]), 200, user=u["user"])
    r = post(api, {"login": u["email"], "password": u["password"],
                   "remember_me": True, "role": "admin"})
    body = assert_token_pair(r, 200, user=u["user"])
    assert body["user"]["role"] == "user"


def test_login_creates_new_session(api, new_user):
    u = new_user()
    before = api.get("/v1/me/sessions", token=u["access_token"])
    assert before.status_code == 200, describe(before)
    n = len(before.json()["items"])
    body = assert_token_pair(post(api, {"login": u["email"],
                                        "password": u["password"]}), 200)
    after = api.get("/v1/me/sessions", token=body["access_token"])
    assert len(after.json()["items"]) == n + 1
    # Both sessions work independently.
    for tok in (u["access_token"], body["access_token"]):
        assert api.get("/v1/me", token=tok).status_code == 200
