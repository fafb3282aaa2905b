"""POST /v1/auth/register: every bad input first (400/413/415, nothing
stored), then conflicts, limits, races, then success."""

import json

import pytest

from helpers import (assert_field_error, assert_no_secrets, assert_problem,
                     assert_token_pair, assert_user, count_users_email,
                     count_users_marked, describe, fresh_ip, marker, parallel,
                     raw_request, strong_password, tables_containing,
                     unique_email)

PATH = "/v1/auth/register"
JSON_CT = {"Content-Type": "application/json"}

TYPE_VALUES = [("number", 123), ("float", 1.5), ("array", ["a@b.test"]),
               ("object", {"a": 1}), ("null", None), ("true", True),
               ("false", False)]


def base(tag, pw):
    return {"email": "%s@example.test" % tag, "password": pw,
            "username": "u" + tag}


def with_(tag, pw, **kw):
    b = base(tag, pw)
    b.update(kw)
    return b


def without(tag, pw, *keys):
    b = base(tag, pw)
    for k in keys:
        del b[k]
    return b


def fe(field, codes, top=None):
    return lambda r: assert_field_error(r, field, codes, top)


def prob(status, codes):
    return lambda r: assert_problem(r, status, codes)


EMAIL_CODES = {"invalid_email", "invalid_format"}
EMAIL_LONG_CODES = EMAIL_CODES | {"too_long"}
USERNAME_CODES = {"invalid_username", "invalid_format", "too_long",
                  "too_short"}
DISPLAY_CODES = {"invalid_display_name", "invalid_format", "too_long",
                 "too_short"}
LOCALE_CODES = {"invalid_locale", "invalid_format", "too_long"}
WEAK_CODES = {"weak_password", "too_long", "too_short"}
NUL_CODES = {"invalid_json", "validation_failed", "invalid_email",
             "weak_password", "invalid_username"}
TYPE_CODES = {"invalid_type"}
JSON_OR_TYPE = {"invalid_json", "validation_failed"}


def _missing_both(r):
    body = assert_problem(r, 400, "validation_failed")
    fields = {(e["field"], e["code"]) for e in body.get("errors", [])}
    assert ("email", "required") in fields, describe(r)
    assert ("password", "required") in fields, describe(r)


# (id, body(tag, password) -> dict (sent as JSON) or bytes (raw JSON body),
#  check(response))
CASES = [
    ("missing-email-and-password", lambda t, p: {"display_name": t},
     _missing_both),
    ("missing-email", lambda t, p: without(t, p, "email"),
     fe("email", "required", {"validation_failed"})),
    ("missing-password", lambda t, p: without(t, p, "password"),
     fe("password", "required", {"validation_failed"})),
]

for _field in ("email", "password"):
    for _name, _val in TYPE_VALUES:
        CASES.append((
            "%s-%s" % (_field, _name),
            (lambda f, v: lambda t, p: with_(t, p, **{f: v}))(_field, _val),
            fe(_field, TYPE_CODES | ({"required"} if _val is None else set()),
               {"validation_failed"})))
for _field in ("username", "display_name", "locale"):
    for _name, _val in TYPE_VALUES:
        if _val is None:
            continue  # null on an optional field may mean "not given"
        CASES.append((
            "%s-%s" % (_field, _name),
            (lambda f, v: lambda t, p: with_(t, p, **{f: v}))(_field, _val),
            fe(_field, TYPE_CODES, {"validation_failed"})))

BAD_EMAILS = [
    ("plain", "{t}"),
    ("no-local", "@{t}.test"),
    ("no-domain", "{t}@"),
    ("two-at", "{t}@@example.test"),
    ("at-in-domain", "{t}@exa@mple.test"),
    ("undotted-domain", "{t}@localhost"),
    ("empty-label", "{t}@example..test"),
    ("space-local", "{t} x@example.test"),
    ("space-domain", "{t}@exa mple.test"),
    ("leading-space", " {t}@example.test"),
    ("angle", "<{t}@example.test>"),
    ("display-form", "Name <{t}@example.test>"),
    ("crlf-header", "{t}@example.test\r\nBcc: victim@example.test"),
    ("lf", "{t}\n@example.test"),
    ("cr", "{t}@example.test\r"),
    ("tab", "{t}\t@example.test"),
    ("non-ascii-local", "\u00fc{t}@example.test"),
    ("sql-or", "{t}' OR '1'='1"),
    ("sql-drop", "{t}@example.test'; DROP TABLE users;--"),
    ("empty", ""),
]
for _name, _fmt in BAD_EMAILS:
    CASES.append((
        "email-" + _name,
        (lambda fmt: lambda t, p: dict(
            with_(t, p, email=fmt.format(t=t))))(_fmt),
        fe("email", EMAIL_CODES | {"required", "too_short"}
           if _name == "empty" else EMAIL_CODES)))
CASES.append((
    "email-too-long",
    lambda t, p: with_(t, p, email=t + "a" * (64 - len(t)) + "@"
                       + ".".join(["b" * 63] * 3) + ".test"),
    fe("email", EMAIL_LONG_CODES)))

BAD_USERNAMES = [
    ("short", "ab"), ("leading-dash", "-{t}"), ("leading-underscore", "_{t}"),
    ("space", "{t} x"), ("at-sign", "{t}@x"), ("non-ascii", "\u00fc{t}"),
    ("cyrillic", "\u044e{t}"), ("sql", "{t}'; DROP TABLE users;--"),
    ("crlf", "{t}\r\nx"), ("slash", "{t}/x"), ("too-long", "{t}" + "x" * 40),
    ("empty", ""),
]
for _name, _fmt in BAD_USERNAMES:
    CASES.append((
        "username-" + _name,
        (lambda fmt: lambda t, p: with_(t, p, username=fmt.format(t=t)))(_fmt),
        fe("username", USERNAME_CODES)))

BAD_DISPLAY = [
    ("empty", ""), ("bell", "a\u0007b"), ("newline", "a\nb"),
    ("crlf", "a\r\nb"), ("del", "a\u007fb"), ("too-long", "x" * 65),
    ("too-long-multibyte", "\u044f" * 65),
]
for _name, _val in BAD_DISPLAY:
    CASES.append((
        "display_name-" + _name,
        (lambda v: lambda t, p: with_(t, p, display_name=v))(_val),
        fe("display_name", DISPLAY_CODES)))

for _val in ("de", "", "english", "en-US", "EN_us", "en\u0000"):
    CASES.append((
        "locale-%r" % _val,
        (lambda v: lambda t, p: with_(t, p, locale=v))(_val),
        fe("locale", LOCALE_CODES) if "\u0000" not in _val
        else prob(400, NUL_CODES | {"invalid_locale"})))

WEAK = [
    ("7-chars", "Ab1!xyz"), ("common", "password123"),
    ("common-upper", "PASSWORD123"), ("common-mixed", "PassWord123"),
    ("common-digits", "12345678"), ("7-chars-14-bytes", "\u00e9" * 7),
    ("1025-bytes", "x" * 1025), ("1026-bytes-513-chars", "\u00e9" * 513),
    ("empty", ""),
]
for _name, _val in WEAK:
    CASES.append((
        "weak-" + _name,
        (lambda v: lambda t, p: with_(t, p, password=v))(_val),
        fe("password", WEAK_CODES | ({"required"} if not _val else set()),
           {"weak_password", "validation_failed"})))

# NUL, escaped (\u0000 inside a JSON string) and raw.
for _field in ("email", "password", "username", "display_name"):
    CASES.append((
        "nul-escaped-" + _field,
        (lambda f: lambda t, p: with_(
            t, p, **{f: base(t, p).get(f, t) + "\u0000x"}))(_field),
        prob(400, NUL_CODES | {"invalid_display_name"})))


def _raw(fmt):
    """A raw body from a template: {t} tag, {p} password."""
    return lambda t, p: fmt.replace(b"{t}", t.encode()).replace(
        b"{p}", p.encode())


def _body(extra=b""):
    return b'{"email":"{t}@example.test","password":"{p}","username":"u{t}"' \
        + extra + b"}"


RAW = [
    ("raw-nul-in-email",
     b'{"email":"{t}\x00@example.test","password":"{p}"}', "invalid_json"),
    # In a field with its own validator, either refusal is right ...
    ("raw-newline-in-string",
     b'{"email":"{t}@example.test","password":"{p}","display_name":"a\nb"}',
     {"invalid_json", "invalid_display_name"}),
    ("raw-tab-in-string",
     b'{"email":"{t}@example.test","password":"{p}","display_name":"a\tb"}',
     {"invalid_json", "invalid_display_name"}),
    # ... in a field nobody validates, only the parser can refuse.
    ("raw-newline-in-unknown-field", _body(b',"x":"a\nb"'), "invalid_json"),
    ("raw-control-in-unknown-field", _body(b',"x":"a\x01b"'),
     "invalid_json"),
    ("raw-control-in-password",
     b'{"email":"{t}@example.test","password":"{p}\x1f"}', "invalid_json"),
    ("utf8-ff-in-email",
     b'{"email":"{t}\xff\xfe@example.test","password":"{p}"}', "invalid_json"),
    ("utf8-bad-in-password",
     b'{"email":"{t}@example.test","password":"{p}\xc3\x28"}', "invalid_json"),
    ("utf8-overlong-slash", _body(b',"display_name":"a\xc0\xafb"'),
     {"invalid_json", "invalid_display_name"}),
    ("utf8-surrogate", _body(b',"display_name":"a\xed\xa0\x80b"'),
     {"invalid_json", "invalid_display_name"}),
    ("utf8-overlong-in-unknown-field", _body(b',"x":"a\xc0\xafb"'),
     "invalid_json"),
    ("utf8-surrogate-in-unknown-field", _body(b',"x":"a\xed\xa0\x80b"'),
     "invalid_json"),
    ("utf8-above-10ffff-in-unknown-field",
     _body(b',"x":"a\xf4\x90\x80\x80b"'), "invalid_json"),
    ("utf8-overlong-in-password",
     b'{"email":"{t}@example.test","password":"{p}\xe0\x80\xaf"}',
     {"invalid_json", "weak_password", "validation_failed"}),
    ("utf8-truncated", _body(b',"display_name":"a\xe2\x82"'), "invalid_json"),
    ("utf8-in-unknown-field", _body(b',"x":"\xff"'), "invalid_json"),
    ("utf8-in-key", _body(b',"\xfe":"x"'), "invalid_json"),
    ("trailing-comma", _body(b","), "invalid_json"),
    ("trailing-comma-array", _body(b',"x":[1,2,]'), "invalid_json"),
    ("block-comment", b'{/* c */"email":"{t}@example.test","password":"{p}"}',
     "invalid_json"),
    ("line-comment", b'// c\n{"email":"{t}@example.test","password":"{p}"}',
     "invalid_json"),
    ("hash-comment", _body(b'\n# c\n'), "invalid_json"),
    ("single-quotes", b"{'email':'{t}@example.test','password':'{p}'}",
     "invalid_json"),
    ("unquoted-keys", b'{email:"{t}@example.test",password:"{p}"}',
     "invalid_json"),
    ("trailing-garbage", _body() + b"x", "invalid_json"),
    ("trailing-object", _body() + b"{}", "invalid_json"),
    ("trailing-nul", _body() + b"\x00", "invalid_json"),
    ("two-documents", _body() + b"\n" + _body(), "invalid_json"),
    ("nan", _body(b',"x":NaN'), "invalid_json"),
    ("infinity", _body(b',"x":Infinity'), "invalid_json"),
    ("minus-infinity", _body(b',"x":-Infinity'), "invalid_json"),
    ("leading-zero", _body(b',"x":01'), "invalid_json"),
    ("hex-number", _body(b',"x":0x10'), "invalid_json"),
    ("plus-number", _body(b',"x":+1'), "invalid_json"),
    ("bad-escape", _body(b',"display_name":"a\\qb"'), "invalid_json"),
    ("unterminated", b'{"email":"{t}@example.test","password":"{p}"',
     "invalid_json"),
    ("unterminated-string", b'{"email":"{t}@example.test","password":"{p}',
     "invalid_json"),
    ("duplicate-email",
     b'{"email":"{t}@example.test","email":"x{t}@example.test",'
     b'"password":"{p}"}', "invalid_json"),
    ("duplicate-password",
     b'{"email":"{t}@example.test","password":"{p}","password":"{p}x"}',
     "invalid_json"),
    ("depth-100", _body(b',"x":' + b"[" * 100 + b"]" * 100), "invalid_json"),
    ("depth-100-objects",
     _body(b',"x":' + b'{"a":' * 100 + b"1" + b"}" * 100), "invalid_json"),
    ("empty-body", b"", "invalid_json"),
    ("whitespace-body", b"  \r\n ", "invalid_json"),
    ("top-level-array", b'[{"email":"{t}@example.test","password":"{p}"}]',
     JSON_OR_TYPE),
    ("top-level-string", b'"{t}@example.test"', JSON_OR_TYPE),
    ("top-level-number", b"1", JSON_OR_TYPE),
    ("top-level-null", b"null", JSON_OR_TYPE),
    ("top-level-true", b"true", JSON_OR_TYPE),
    ("email-2pow63", b'{"email":9223372036854775808,"password":"{p}",'
     b'"username":"u{t}"}', JSON_OR_TYPE),
    ("email-minus-2pow63-1", b'{"email":-9223372036854775809,'
     b'"password":"{p}","username":"u{t}"}', JSON_OR_TYPE),
    ("password-1e400", b'{"email":"{t}@example.test","password":1e400}',
     JSON_OR_TYPE),
    ("username-1e400", b'{"email":"{t}@example.test","password":"{p}",'
     b'"username":1e400}', JSON_OR_TYPE),
    ("locale-huge-exponent", _body(b',"locale":1e999999999'), JSON_OR_TYPE),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_register_bad_json_input(api, db, case):
    _, make, check = case
    tag = marker()
    r = api.post(PATH, json=make(tag, strong_password()))
    check(r)
    assert count_users_marked(db, tag) == 0, "a row was stored: " + describe(r)


@pytest.mark.parametrize("case", RAW, ids=[c[0] for c in RAW])
def test_register_bad_raw_body(api, db, case):
    name, template, codes = case
    tag = marker()
    r = api.post(PATH, data=_raw(template)(tag, strong_password()),
                 headers=JSON_CT)
    assert_problem(r, 400, codes)
    assert count_users_marked(db, tag) == 0, "a row was stored: " + describe(r)


def test_register_huge_number_in_unknown_field(api, db):
    """2^64 in a field usher does not read: refused as a whole (400) or
    ignored like any unknown field (201), never a 5xx."""
    tag = marker()
    r = api.post(PATH, data=_raw(_body(b',"x":18446744073709551616'))(
        tag, strong_password()), headers=JSON_CT)
    if r.status_code == 201:
        assert count_users_marked(db, tag) == 1
    else:
        assert_problem(r, 400, {"invalid_json", "validation_failed"})
        assert count_users_marked(db, tag) == 0


def test_register_duplicate_keys_store_neither(api, db):
    tag = marker()
    body = ('{"email":"a%s@example.test","email":"b%s@example.test",'
            '"password":"%s"}' % (tag, tag, strong_password())).encode()
    r = api.post(PATH, data=body, headers=JSON_CT)
    assert_problem(r, 400, "invalid_json")
    assert count_users_email(db, "a%s@example.test" % tag) == 0
    assert count_users_email(db, "b%s@example.test" % tag) == 0


def test_register_body_over_limit_413(api, db):
    tag = marker()
    body = json.dumps({"email": unique_email(tag), "password": strong_password(),
                       "x": "a" * 70000}).encode()
    assert len(body) > 65536
    r = api.post(PATH, data=body, headers=JSON_CT)
    assert_problem(r, 413, "payload_too_large")
    assert count_users_marked(db, tag) == 0


@pytest.mark.parametrize("ctype", [
    None, "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz", "text/json", "application/jsonp",
    "application/json-patch+json", "application/xml", "json",
])
def test_register_wrong_content_type_415(api, db, ctype):
    tag = marker()
    body = json.dumps({"email": unique_email(tag),
                       "password": strong_password()}).encode()
    headers = {"Content-Type": ctype} if ctype else {}
    r = api.post(PATH, data=body, headers=headers)
    assert_problem(r, 415, "unsupported_media_type")
    assert count_users_marked(db, tag) == 0


def test_register_form_encoded_415(api, db):
    tag = marker()
    r = api.post(PATH, data={"email": unique_email(tag),
                             "password": strong_password()})
    assert_problem(r, 415, "unsupported_media_type")
    assert count_users_marked(db, tag) == 0


# ------------------------------------------------------------ conflicts

def test_register_email_taken_case_insensitive(api, db):
    tag = marker()
    first = api.post(PATH, json={"email": "Upper%s@Example.TEST" % tag,
                                 "password": strong_password()})
    assert first.status_code == 201, describe(first)
    for email in ("upper%s@example.test" % tag, "UPPER%s@EXAMPLE.TEST" % tag,
                  "Upper%s@Example.TEST" % tag):
        r = api.post(PATH, json={"email": email, "password": strong_password(),
                                 "username": "x" + tag},
                     ip=fresh_ip())
        assert_problem(r, 409, "email_taken")
    assert count_users_email(db, "upper%s@example.test" % tag) == 1
    assert count_users_marked(db, "x" + tag) == 0


def test_register_username_taken_case_insensitive(api, db):
    tag = marker()
    first = api.post(PATH, json={"email": unique_email("a" + tag),
                                 "password": strong_password(),
                                 "username": "Name" + tag})
    assert first.status_code == 201, describe(first)
    for username in ("name" + tag, "NAME" + tag.upper(), "Name" + tag):
        r = api.post(PATH, json={"email": unique_email("b" + tag),
                                 "password": strong_password(),
                                 "username": username}, ip=fresh_ip())
        assert_problem(r, 409, "username_taken")
    assert count_users_email(db, unique_email("b" + tag)) == 0


def test_register_both_taken(api, new_user):
    u = new_user()
    r = api.post(PATH, json={"email": u["email"].upper(),
                             "password": strong_password(),
                             "username": u["username"]}, ip=fresh_ip())
    assert_problem(r, 409, {"email_taken", "username_taken"})


def test_register_email_taken_equal_for_unknown_password(api, new_user):
    """The conflict answer does not depend on the password sent."""
    u = new_user()
    a = api.post(PATH, json={"email": u["email"], "password": u["password"]},
                 ip=fresh_ip())
    b = api.post(PATH, json={"email": u["email"],
                             "password": strong_password()}, ip=fresh_ip())
    assert_problem(a, 409, "email_taken")
    assert_problem(b, 409, "email_taken")
    assert "access_token" not in a.text


def test_register_rate_limited_per_address(api, db):
    ip = fresh_ip()
    tag = marker()
    for i in range(10):
        r = api.post(PATH, json={"email": unique_email("%s%d" % (tag, i)),
                                 "password": strong_password()}, ip=ip)
        assert r.status_code == 201, "registration %d: %s" % (i, describe(r))
    r = api.post(PATH, json={"email": unique_email(tag + "x"),
                             "password": strong_password()}, ip=ip)
    assert_problem(r, 429, "rate_limited")
    ra = r.headers.get("Retry-After", "")
    assert ra.isdigit() and 0 < int(ra) <= 3600, "Retry-After %r" % ra
    assert count_users_email(db, unique_email(tag + "x")) == 0
    # Another address is not affected.
    r = api.post(PATH, json={"email": unique_email(tag + "y"),
                             "password": strong_password()}, ip=fresh_ip())
    assert r.status_code == 201, describe(r)


def test_register_race_one_email(base_url, db):
    email = unique_email()
    ips = [fresh_ip() for _ in range(20)]

    def go(i):
        return raw_request(base_url, "POST", PATH,
                           {"email": email if i % 2 else email.upper(),
                            "password": strong_password()}, ip=ips[i])
    results = parallel(20, go)
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(201) == 1, statuses
    for r in results:
        if r.status_code != 201:
            assert_problem(r, 409, "email_taken")
    assert count_users_email(db, email) == 1


def test_register_race_one_username(base_url, db):
    tag = marker()
    username = "race" + tag
    ips = [fresh_ip() for _ in range(20)]

    def go(i):
        return raw_request(base_url, "POST", PATH,
                           {"email": unique_email("%s%d" % (tag, i)),
                            "username": username,
                            "password": strong_password()}, ip=ips[i])
    results = parallel(20, go)
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(201) == 1, statuses
    for r in results:
        if r.status_code != 201:
            assert_problem(r, 409, "username_taken")
    assert count_users_marked(db, tag) == 1


# -------------------------------------------------------------- success

def test_register_success(api, db):
    tag = marker()
    email = unique_email(tag)
    pw = strong_password()
    r = api.post(PATH, json={"email": email, "password": pw,
                             "username": "u" + tag})
    body = assert_token_pair(r, 201)
    assert body["verification_required"] is False
    assert_no_secrets(body, pw)
    assert pw not in r.text
    u = assert_user(body["user"], email=email, username="u" + tag,
                    role="user", status="active", email_verified=False,
                    display_name=None, avatar_url=None, locale="en")
    assert set(body) >= {"user", "verification_required", "access_token"}
    assert count_users_email(db, email) == 1
    # The access token works and names the same account.
    me = api.get("/v1/me", token=body["access_token"])
    assert me.status_code == 200, describe(me)
    assert me.json()["id"] == u["id"]
    # Neither the password nor the refresh token is stored in plaintext.
    assert tables_containing(db, pw) == []
    assert tables_containing(db, body["refresh_token"]) == []


def test_register_minimal_fields(api, db):
    email = unique_email()
    r = api.post(PATH, json={"email": email, "password": strong_password()})
    body = assert_token_pair(r, 201)
    assert_user(body["user"], email=email, username=None, display_name=None,
                locale="en", role="user")


def test_register_all_fields(api):
    tag = marker()
    r = api.post(PATH, json={"email": unique_email(tag),
                             "password": strong_password(),
                             "username": "Mixed." + tag,
                             "display_name": "Zo\u00eb \u042f\u0441\u043d\u0430",
                             "locale": "uk"})
    body = assert_token_pair(r, 201)
    assert_user(body["user"], username="mixed." + tag,
                display_name="Zo\u00eb \u042f\u0441\u043d\u0430", locale="uk")


def test_register_ignores_privileged_fields(api, db):
    email = unique_email()
    fake_id = "00000000-0000-4000-8000-000000000001"
    r = api.post(PATH, json={"email": email, "password": strong_password(),
                             "role": "admin", "email_verified": True,
                             "status": "disabled", "id": fake_id,
                             "created_at": "2000-01-01T00:00:00Z",
                             "unknown": {"nested": [1, 2]}})
    body = assert_token_pair(r, 201)
    assert_user(body["user"], role="user", email_verified=False,
                status="active")
    assert body["user"]["id"] != fake_id
    assert not body["user"]["created_at"].startswith("2000")
    me = api.get("/v1/me", token=body["access_token"]).json()
    assert me["role"] == "user"


def test_register_email_case_preserved_login_any_case(api, login):
    tag = marker()
    email = "Mixed.%s@Example.TEST" % tag
    pw = strong_password()
    r = api.post(PATH, json={"email": email, "password": pw})
    body = assert_token_pair(r, 201)
    assert body["user"]["email"].lower() == email.lower()
    for form in (email, email.lower(), email.upper()):
        assert_token_pair(login(form, pw), 200, user=body["user"])


def test_register_password_1024_bytes_not_truncated(api, login):
    email = unique_email()
    pw = ("Long-" + strong_password() * 60)[:1024]
    assert len(pw.encode()) == 1024
    r = api.post(PATH, json={"email": email, "password": pw})
    assert_token_pair(r, 201)
    assert_token_pair(login(email, pw), 200)
    for prefix in (pw[:1023], pw[:72], pw[:64]):
        assert_problem(login(email, prefix), 401, "invalid_credentials")


def test_register_password_multibyte_8_chars(api, login):
    email = unique_email()
    pw = "\u0436\u0438\u0432\u0451\u0442\u00e9\u00df\u2603"  # 8 chars
    r = api.post(PATH, json={"email": email, "password": pw})
    assert_token_pair(r, 201)
    assert_token_pair(login(email, pw), 200)


def test_register_display_name_64_multibyte_chars(api):
    name = "\u044f" * 64
    r = api.post(PATH, json={"email": unique_email(),
                             "password": strong_password(),
                             "display_name": name})
    body = assert_token_pair(r, 201)
    assert body["user"]["display_name"] == name


def test_register_sql_looking_strings_stored_verbatim(api, db, login):
    email = unique_email()
    pw = "' OR ''=' " + strong_password()
    name = "Robert'); DROP TABLE users;--"
    r = api.post(PATH, json={"email": email, "password": pw,
                             "display_name": name})
    body = assert_token_pair(r, 201)
    assert body["user"]["display_name"] == name
    assert count_users_email(db, email) == 1  # the table is still there
    assert_token_pair(login(email, pw), 200)
    assert_problem(login(email, "' OR ''='"), 401, "invalid_credentials")


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8",
                                   "application/json;charset=UTF-8",
                                   "Application/JSON"])
def test_register_content_type_variants_accepted(api, ctype):
    email = unique_email()
    r = api.post(PATH, data=json.dumps({"email": email,
                                        "password": strong_password()}),
                 headers={"Content-Type": ctype})
    body = assert_token_pair(r, 201)
    assert body["user"]["email"] == email


def test_register_unicode_escapes_decoded(api):
    """\\uXXXX escapes (with a surrogate pair) are decoded, not stored raw."""
    tag = marker()
    raw = ('{"email":"%s@example.test","password":"%s",'
           '"display_name":"\\u0417\\u043e\\u00eb \\ud83d\\ude00"}'
           % (tag, strong_password())).encode()
    r = api.post(PATH, data=raw, headers=JSON_CT)
    body = assert_token_pair(r, 201)
    assert body["user"]["display_name"] == "\u0417\u043e\u00eb \U0001F600"
