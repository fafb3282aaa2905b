"""The mail endpoints' answers, no delivery needed: bad inputs (problem
details, nothing queued, nothing changed), header injection through
addresses and names, identical answers for known and unknown addresses,
and the limits per recipient and per client address.

The endpoints: POST /v1/auth/verify-email, /v1/auth/verify-email/resend,
/v1/auth/password/forgot, /v1/auth/password/reset,
/v1/auth/username/remind and POST /v1/me/email."""

import json
import os

import pytest

from helpers import (assert_field_error, assert_problem, count_users_marked,
                     describe, fresh_ip, marker, raw_request,
                     strong_password, unique_username)
from mailkit import (cfg_int, cfg_rate, clear_mail_throttle, flush_file,
                     outbox_count_like, outbox_rows, spool_mail,
                     unique_addr)

JSON_CT = {"Content-Type": "application/json"}
ACCEPTED = {"status": "accepted"}

VERIFY = "/v1/auth/verify-email"
RESEND = "/v1/auth/verify-email/resend"
FORGOT = "/v1/auth/password/forgot"
RESET = "/v1/auth/password/reset"
REMIND = "/v1/auth/username/remind"
ME_EMAIL = "/v1/me/email"
BY_ADDRESS = [(RESEND, "verify_email"), (FORGOT, "password_reset"),
              (REMIND, "username_reminder")]


# ------------------------------------------------------------ the victim

@pytest.fixture(scope="module")
def victim(base_url, db, _config_env, tmp_path_factory):
    """An account with a live verification link and a live reset link
    (delivered by `usherctl mail flush` into a spool folder) that every
    bad request below must leave alone."""
    email, pw = unique_addr(), strong_password()
    r = raw_request(base_url, "POST", "/v1/auth/register",
                    {"email": email, "password": pw, "locale": "uk",
                     "username": unique_username()}, ip=fresh_ip())
    assert r.status_code == 201, describe(r)
    reg = r.json()
    r = raw_request(base_url, "POST", FORGOT, {"email": email},
                    ip=fresh_ip())
    assert r.status_code == 202, describe(r)
    spool = str(tmp_path_factory.mktemp("victim-spool"))
    flush_file(_config_env, spool)
    vrow = outbox_rows(db, email, "verify_email")[-1]
    prow = outbox_rows(db, email, "password_reset")[-1]
    assert vrow["status"] == prow["status"] == "sent", (vrow, prow)
    return {"email": email, "password": pw, "id": reg["user"]["id"],
            "access_token": reg["access_token"],
            "verify_token": spool_mail(spool, vrow["id"]).token,
            "reset_token": spool_mail(spool, prow["id"]).token}


def snapshot(db, v):
    """Everything a mail request could change about the victim."""
    return db.query(
        "SELECT u.email, u.email_verified::text, u.password_hash, "
        "u.updated_at::text, "
        "(SELECT count(*) FROM mail_outbox o WHERE o.user_id = u.id OR "
        "  lower(o.to_addr) = lower(u.email)), "
        "(SELECT string_agg(purpose || '=' || coalesce(used_at::text, '-'), "
        "  ',' ORDER BY created_at, purpose) FROM action_tokens a "
        "  WHERE a.user_id = u.id), "
        "(SELECT count(*) FROM sessions s WHERE s.user_id = u.id "
        "  AND s.revoked_at IS NULL) "
        "FROM users u WHERE u.id = $1::uuid", v["id"])[0]


def base_body(endpoint, v, tag):
    """A well-formed body for endpoint, about the victim; tag marks it."""
    return {
        VERIFY: {"token": v["verify_token"]},
        RESEND: {"email": v["email"]},
        FORGOT: {"email": v["email"]},
        RESET: {"token": v["reset_token"], "password": "Pw-" + tag + "-new"},
        REMIND: {"email": v["email"]},
        ME_EMAIL: {"new_email": unique_addr(tag), "password": v["password"]},
    }[endpoint]


def send(api, endpoint, v, body=None, raw=None, headers=None):
    token = v["access_token"] if endpoint == ME_EMAIL else None
    if raw is not None:
        h = dict(JSON_CT)
        h.update(headers or {})
        return api.post(endpoint, data=raw, headers=h, token=token)
    return api.post(endpoint, json=body, headers=headers, token=token)


ENDPOINTS = [VERIFY, RESEND, FORGOT, RESET, REMIND, ME_EMAIL]
FIELDS = [(VERIFY, "token"), (RESEND, "email"), (FORGOT, "email"),
          (RESET, "token"), (RESET, "password"), (REMIND, "email"),
          (ME_EMAIL, "new_email"), (ME_EMAIL, "password")]
EMAIL_FIELDS = {"email", "new_email"}
HUGE = 123456789012345678901234567890

TYPE_VALUES = [("number", 123), ("float", 1.5), ("huge-number", HUGE),
               ("array", ["x@example.test"]), ("object", {"a": "b"}),
               ("null", None), ("true", True), ("false", False)]


def field_cases():
    out = []
    for ep, f in FIELDS:
        name = "%s-%s" % (ep.rsplit("/", 1)[1], f)
        out.append(pytest.param(ep, f, "missing", None, id=name + "-missing"))
        for tname, val in TYPE_VALUES:
            out.append(pytest.param(ep, f, "type", val,
                                    id="%s-%s" % (name, tname)))
        out.append(pytest.param(ep, f, "nul", None, id=name + "-nul"))
        out.append(pytest.param(ep, f, "bad-utf8", None,
                                id=name + "-bad-utf8"))
        out.append(pytest.param(ep, f, "too-long", None,
                                id=name + "-too-long"))
        if not (ep == RESET and f == "password"):
            # (in a reset, that is just a password)
            out.append(pytest.param(ep, f, "sql", None, id=name + "-sql"))
    return out


def expect_for(ep, f, case, resp):
    if case == "missing":
        assert_field_error(resp, f, "required", {"validation_failed"})
    elif case == "type":
        assert_field_error(resp, f, "invalid_type", {"validation_failed"})
    elif case in ("nul", "bad-utf8"):
        assert_problem(resp, 400, "invalid_json")
    elif case == "too-long":
        if f in EMAIL_FIELDS:
            assert_field_error(resp, f, {"too_long", "invalid_email"})
        elif f == "token":
            assert_field_error(resp, f, {"too_long", "invalid_token"},
                               {"validation_failed", "invalid_token"})
        elif ep == RESET:
            assert_field_error(resp, f, {"weak_password", "too_long"},
                               {"weak_password", "validation_failed"})
        else:   # me/email password: too long to be anyone's
            assert_problem(resp, resp.status_code,
                           {"validation_failed", "invalid_credentials"})
            assert resp.status_code in (400, 401), describe(resp)
    elif case == "sql":
        if f in EMAIL_FIELDS:
            assert_field_error(resp, f, "invalid_email")
        elif f == "token":
            assert_problem(resp, 400, "invalid_token")
        else:
            assert_problem(resp, 401, "invalid_credentials")


@pytest.mark.parametrize("ep,field,case,value", field_cases())
def test_bad_field(api, db, victim, ep, field, case, value):
    tag = marker()
    before = snapshot(db, victim)
    body = base_body(ep, victim, tag)
    raw = None
    if case == "missing":
        del body[field]
    elif case == "type":
        body[field] = value
    elif case == "nul":
        body[field] = body[field] + "\u0000" + tag
    elif case == "bad-utf8":
        body[field] = "@@BAD@@"
        raw = json.dumps(body).encode().replace(b"@@BAD@@",
                                                tag.encode() + b"\xff\xfe")
    elif case == "too-long":
        body[field] = tag + "a" * 1100 + ("@example.test"
                                          if field in EMAIL_FIELDS else "")
    elif case == "sql":
        body[field] = "' OR 1=1 --" + tag
    if case in ("nul",):
        raw = json.dumps(body).encode()
    r = send(api, ep, victim, body=body, raw=raw)
    expect_for(ep, field, case, r)
    assert snapshot(db, victim) == before
    assert outbox_count_like(db, tag) == 0


MALFORMED = [
    ("empty", b"", {"invalid_json", "validation_failed"}),
    ("truncated", b'{"email":"x', {"invalid_json"}),
    ("trailing-comma", b'{"email":"a@example.test",}', {"invalid_json"}),
    ("duplicate", b'{"email":"a@example.test","email":"b@example.test"}',
     {"invalid_json"}),
    ("array", b"[]", {"invalid_json", "validation_failed"}),
    ("string", b'"x"', {"invalid_json", "validation_failed"}),
    ("null", b"null", {"invalid_json", "validation_failed"}),
    ("1e999", b'{"email":1e999,"token":1e999}', {"invalid_json"}),
    ("two-values", b'{} {}', {"invalid_json"}),
    ("deep", b'{"a":' * 200 + b"1" + b"}" * 200, {"invalid_json"}),
    ("bare-bad-utf8", b'{"\xc0\xaf":1}', {"invalid_json"}),
]


@pytest.mark.parametrize("ep", ENDPOINTS,
                         ids=[e.rsplit("/", 1)[1] for e in ENDPOINTS])
@pytest.mark.parametrize("name,raw,codes", MALFORMED,
                         ids=[m[0] for m in MALFORMED])
def test_malformed_json(api, db, victim, ep, name, raw, codes):
    before = snapshot(db, victim)
    assert_problem(send(api, ep, victim, raw=raw), 400, codes)
    assert snapshot(db, victim) == before


@pytest.mark.parametrize("ep", ENDPOINTS,
                         ids=[e.rsplit("/", 1)[1] for e in ENDPOINTS])
def test_oversize_body_413(api, db, victim, ep):
    tag = marker()
    before = snapshot(db, victim)
    body = base_body(ep, victim, tag)
    body["padding"] = "x" * (65 * 1024)
    r = send(api, ep, victim, raw=json.dumps(body).encode())
    assert_problem(r, 413, "payload_too_large")
    assert snapshot(db, victim) == before
    assert outbox_count_like(db, tag) == 0


@pytest.mark.parametrize("ep", ENDPOINTS,
                         ids=[e.rsplit("/", 1)[1] for e in ENDPOINTS])
@pytest.mark.parametrize("ctype", [
    "text/plain", "application/x-www-form-urlencoded", None,
    "application/json; charset=latin1", "multipart/form-data; boundary=x",
], ids=["text", "form", "none", "latin1", "multipart"])
def test_wrong_content_type_415(api, db, victim, ep, ctype):
    tag = marker()
    before = snapshot(db, victim)
    raw = json.dumps(base_body(ep, victim, tag)).encode()
    token = victim["access_token"] if ep == ME_EMAIL else None
    headers = {"Content-Type": ctype} if ctype else {}
    r = api.post(ep, data=raw, headers=headers, token=token)
    assert_problem(r, 415, "unsupported_media_type")
    assert snapshot(db, victim) == before
    assert outbox_count_like(db, tag) == 0


def test_weak_reset_password_keeps_token(api, db, victim):
    before = snapshot(db, victim)
    for pw in ("short", "password123", "12345678", ""):
        r = api.post(RESET, json={"token": victim["reset_token"],
                                  "password": pw})
        assert_field_error(r, "password", {"weak_password", "required",
                                           "too_short"},
                           {"weak_password", "validation_failed"})
    assert snapshot(db, victim) == before


def test_garbage_tokens_are_invalid(api, db, victim):
    before = snapshot(db, victim)
    real = victim["verify_token"]
    swapped = real.translate(str.maketrans("-_", "+/"))
    if swapped == real:             # no - or _ in it: make one non-url
        swapped = "+" + real[1:]
    for tok in ("", "a", real[:-1], real + "A", real.swapcase(), swapped,
                real + "=", " " + real, real + "\n", "=" * 43,
                victim["reset_token"], "A" * 43, "../" * 10,
                "\u044f" * 20):
        assert tok != real
        r = api.post(VERIFY, json={"token": tok})
        assert_problem(r, 400, "invalid_token")
    # and the reset token is no verification token, nor the reverse
    r = api.post(RESET, json={"token": victim["verify_token"],
                              "password": strong_password()})
    assert_problem(r, 400, "invalid_token")
    assert snapshot(db, victim) == before


def test_victim_links_still_work(api, db, victim, login):
    """Last in the module: after every bad request above, both links
    work (nothing used them up)."""
    r = api.post(VERIFY, json={"token": victim["verify_token"]})
    assert r.status_code == 200, describe(r)
    assert r.json()["user"]["email_verified"] is True
    new_pw = strong_password()
    r = api.post(RESET, json={"token": victim["reset_token"],
                              "password": new_pw})
    assert r.status_code == 204, describe(r)
    assert login(victim["email"], new_pw).status_code == 200


# ------------------------------------------------------- me/email answers

def test_me_email_needs_a_token(api, db):
    tag = marker()
    r = api.post(ME_EMAIL, json={"new_email": unique_addr(tag),
                                 "password": "x"})
    assert_problem(r, 401, "unauthorized")
    assert outbox_count_like(db, tag) == 0


def test_me_email_wrong_password_401(api, new_user, db):
    u = new_user()
    tag = marker()
    r = api.post(ME_EMAIL, json={"new_email": unique_addr(tag),
                                 "password": u["password"] + "x"}, token=u)
    assert_problem(r, 401, "invalid_credentials")
    assert outbox_count_like(db, tag) == 0
    assert len(outbox_rows(db, u["email"])) == 1     # its verification


@pytest.mark.parametrize("whose", ["other", "own", "other-upper"])
def test_me_email_taken_409(api, new_user, db, whose):
    u = new_user()
    other = new_user()
    target = {"other": other["email"], "own": u["email"],
              "other-upper": other["email"].upper()}[whose]
    r = api.post(ME_EMAIL, json={"new_email": target,
                                 "password": u["password"]}, token=u)
    assert_problem(r, 409, "email_taken")
    for x in (u, other):
        rows = outbox_rows(db, x["email"])
        assert [r["kind"] for r in rows] == ["verify_email"], rows
    assert db.query("SELECT count(*) FROM mail_outbox WHERE user_id = "
                    "$1::uuid AND kind LIKE 'email_change%'",
                    u["user"]["id"]) == [("0",)]


def test_me_email_guest_403(api, db):
    r = api.post("/v1/auth/guest")
    assert r.status_code == 201, describe(r)
    guest = r.json()
    tag = marker()
    r = api.post(ME_EMAIL, json={"new_email": unique_addr(tag),
                                 "password": strong_password()},
                 token=guest)
    assert_problem(r, 403, "forbidden")
    assert outbox_count_like(db, tag) == 0
    assert db.query("SELECT count(*) FROM mail_outbox WHERE user_id = "
                    "$1::uuid", guest["user"]["id"]) == [("0",)]


# ---------------------------------------------------- header injection

def _long_addr(t):
    a = "%s@%s.%s.%s.%s.test" % (t, "a" * 63, "b" * 63, "c" * 63, "d" * 50)
    assert len(a) > 254
    return a


BAD_ADDRESSES = [
    ("crlf-bcc", lambda t: "%s@example.test\r\nBcc: evil@example.com" % t),
    ("crlf-in-local", lambda t: "%s\r\n@example.test" % t),
    ("lf", lambda t: "%s@example.test\nX-Evil: 1" % t),
    ("cr", lambda t: "%s@example.test\r" % t),
    ("lt", lambda t: "<%s@example.test" % t),
    ("gt", lambda t: "%s@example.test>" % t),
    ("angle-addr", lambda t: "<%s@example.test>" % t),
    ("name-addr", lambda t: "Evil <%s@example.test>" % t),
    ("two-addrs", lambda t: "%s@example.test,evil@example.com" % t),
    ("semicolon", lambda t: "%s@example.test;evil@example.com" % t),
    ("over-254", _long_addr),
]


def _addr_request(api, db, where, addr):
    """(response, field) of a request putting addr where a mail goes."""
    if where == "register":
        return api.post("/v1/auth/register",
                        json={"email": addr, "password": strong_password()},
                        ip=fresh_ip()), "email"
    if where == "upgrade":
        g = api.post("/v1/auth/guest", ip=fresh_ip())
        assert g.status_code == 201, describe(g)
        r = api.post("/v1/me/upgrade", json={"email": addr,
                                             "password": strong_password()},
                     token=g.json())
        me = api.get("/v1/me", token=g.json())
        assert me.json()["role"] == "guest" and me.json()["email"] is None
        return r, "email"
    if where == "me-email":
        reg = api.post("/v1/auth/register",
                       json={"email": unique_addr(),
                             "password": "Pw-injection-1"}, ip=fresh_ip())
        assert reg.status_code == 201, describe(reg)
        return api.post(ME_EMAIL, json={"new_email": addr,
                                        "password": "Pw-injection-1"},
                        token=reg.json()), "new_email"
    path = {"forgot": FORGOT, "resend": RESEND, "remind": REMIND}[where]
    return api.post(path, json={"email": addr}), "email"


@pytest.mark.parametrize("where", ["register", "upgrade", "forgot",
                                   "resend", "remind", "me-email"])
@pytest.mark.parametrize("name,make", BAD_ADDRESSES,
                         ids=[b[0] for b in BAD_ADDRESSES])
def test_address_injection_refused(api, db, where, name, make):
    tag = marker()
    addr = make(tag)
    r, field = _addr_request(api, db, where, addr)
    assert_field_error(r, field, {"invalid_email", "too_long"})
    assert outbox_count_like(db, tag) == 0
    assert count_users_marked(db, tag) == 0


@pytest.mark.parametrize("name", [
    "x\r\nBcc: evil@example.com", "\r\nBcc: evil@example.com",
    "x\nBcc: evil@example.com", "x\rBcc: evil@example.com",
    "x\u0085Bcc: evil@example.com", "x\tBcc: evil@example.com",
], ids=["crlf", "leading-crlf", "lf", "cr", "nel", "tab"])
def test_display_name_injection_refused(api, new_user, db, name):
    tag = marker()
    r = api.post("/v1/auth/register",
                 json={"email": unique_addr(tag),
                       "password": strong_password(),
                       "display_name": name + tag}, ip=fresh_ip())
    assert_field_error(r, "display_name", "invalid_display_name")
    assert outbox_count_like(db, tag) == 0
    assert count_users_marked(db, tag) == 0
    u = new_user(display_name="Plain")
    r = api.patch("/v1/me", json={"display_name": name}, token=u)
    assert_field_error(r, "display_name", "invalid_display_name")
    assert api.get("/v1/me", token=u).json()["display_name"] == "Plain"


# ------------------------------------------- no account enumeration

def _comparable(resp):
    h = {k.lower(): v for k, v in resp.headers.items()
         if k.lower() not in ("date", "x-request-id")}
    return resp.status_code, h, resp.content


@pytest.mark.parametrize("path,kind", BY_ADDRESS,
                         ids=["resend", "forgot", "remind"])
def test_known_and_unknown_address_answer_alike(api, new_user, db,
                                                config_env, tmp_path, path,
                                                kind):
    known = new_user()
    unknown = unique_addr()
    # a fresh minute for the known address's kind (registration queued a
    # verification a moment ago)
    clear_mail_throttle(db, known["email"], kind)
    # each on a connection of its own: nothing hop-by-hop differs
    close = {"Connection": "close"}
    r_known = api.post(path, json={"email": known["email"]}, headers=close)
    r_unknown = api.post(path, json={"email": unknown}, headers=close)
    assert r_known.status_code == 202, describe(r_known)
    assert r_known.json() == ACCEPTED
    assert _comparable(r_known) == _comparable(r_unknown)

    spool = str(tmp_path / "spool")
    flush_file(config_env, spool)
    [urow] = outbox_rows(db, unknown, kind)
    assert urow["status"] == "skipped", urow
    assert urow["last_error"] == "no such account", urow
    assert urow["user_id"] is None and urow["attempts"] == 0, urow
    assert not os.path.exists(os.path.join(spool, "%d.eml" % urow["id"]))
    krow = outbox_rows(db, known["email"], kind)[-1]
    assert krow["status"] == "sent", krow
    mail = spool_mail(spool, krow["id"])
    assert mail.message_id == krow["message_id"]


# ---------------------------------------------------------------- limits

def test_second_request_within_a_minute_is_silent(api, new_user, db):
    u = new_user()
    answers = [api.post(FORGOT, json={"email": u["email"]},
                        headers={"Connection": "close"}) for _ in range(2)]
    for r in answers:
        assert r.status_code == 202, describe(r)
        assert r.json() == ACCEPTED
    assert _comparable(answers[0]) == _comparable(answers[1])
    assert len(outbox_rows(db, u["email"], "password_reset")) == 1
    # the limit is per kind: a reminder still goes
    r = api.post(REMIND, json={"email": u["email"]})
    assert r.status_code == 202
    assert len(outbox_rows(db, u["email"], "username_reminder")) == 1


def test_hourly_cap_per_recipient(api, new_user, db, config_env):
    cap = cfg_int(config_env, "MAIL_HOURLY_CAP", 5)
    u = new_user()
    for _ in range(cap + 2):
        # a minute passes (the hour does not)
        clear_mail_throttle(db, u["email"], "password_reset", hourly=False)
        r = api.post(FORGOT, json={"email": u["email"]}, ip=fresh_ip())
        assert r.status_code == 202, describe(r)
        assert r.json() == ACCEPTED
    assert len(outbox_rows(db, u["email"], "password_reset")) == cap


def test_per_client_limit_429(api, db, config_env, client_ip):
    n, window = cfg_rate(config_env, "RATE_MAIL_IP", "20/3600")
    tag = marker()
    paths = [FORGOT, RESEND, REMIND]
    for i in range(n):
        r = api.post(paths[i % 3],
                     json={"email": "%s-%d@example.test" % (tag, i)})
        assert r.status_code == 202, "request %d: %s" % (i, describe(r))
    assert outbox_count_like(db, tag) == n
    for path in paths:
        over = "%s-over-%s@example.test" % (tag, path.rsplit("/", 1)[1])
        r = api.post(path, json={"email": over})
        body = assert_problem(r, 429, "rate_limited")
        ra = r.headers.get("Retry-After", "")
        assert ra.isdigit() and 1 <= int(ra) <= window, (ra, body)
        assert outbox_count_like(db, over) == 0
    # another client is not limited
    other = "%s-other@example.test" % tag
    r = api.post(FORGOT, json={"email": other}, ip=fresh_ip())
    assert r.status_code == 202, describe(r)
    assert outbox_count_like(db, other) == 1
