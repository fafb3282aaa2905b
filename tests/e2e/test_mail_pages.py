"""The server-rendered pages behind the mailed links: GET
/v1/auth/verify-email, GET /v1/auth/password/reset and the form's POST
/v1/auth/password/reset-form. Language, status, the exact page the
template gives (placeholders escaped), CSP and Cache-Control.

Links come from real messages, delivered by `usherctl mail flush` with the
file transport into a spool folder of this module."""

import urllib.parse

import pytest

from helpers import describe, strong_password
from mailkit import (age_tokens, assert_same_text, cfg_int, check_page,
                     clear_mail_throttle, expected_page, file_delivered,
                     outbox_rows, page_csp, parse_page, public_url, run_cgi,
                     token_row, user_row)

FORM_CT = {"Content-Type": "application/x-www-form-urlencoded"}
PAGE_LANG = ["en", "uk", "ru"]
HOSTILE_NAME = '<b>"Оля" & \'Co\'</b> <script>alert(1)</script>'


@pytest.fixture(scope="module")
def spool(tmp_path_factory):
    return str(tmp_path_factory.mktemp("pages-spool"))


def verify_link(db, config_env, spool, u):
    _, mail = file_delivered(db, config_env, spool, u["email"],
                             "verify_email")
    return mail


def reset_link(api, db, config_env, spool, u):
    r = api.post("/v1/auth/password/forgot", json={"email": u["email"]})
    assert r.status_code == 202, describe(r)
    _, mail = file_delivered(db, config_env, spool, u["email"],
                             "password_reset")
    return mail


def form_values(config_env, token, user_name):
    return {"action": public_url(config_env) +
            "/v1/auth/password/reset-form",
            "token": token, "user_name": user_name,
            "min_length": str(cfg_int(config_env, "PASSWORD_MIN_LENGTH", 8))}


def check_form(page, config_env, token):
    """The one form posts token and password to public_url's reset-form."""
    assert len(page.forms) == 1, page.forms
    form = page.forms[0]
    assert form["method"].lower() == "post"
    assert form["action"] == public_url(config_env) + \
        "/v1/auth/password/reset-form"
    hidden = [i for i in page.inputs if i.get("type") == "hidden"]
    assert hidden == [{"type": "hidden", "name": "token", "value": token}], \
        hidden
    pw = [i for i in page.inputs if i.get("name") == "password"]
    assert len(pw) == 1 and pw[0]["type"] == "password", pw


def post_form(api, token, password, headers=None):
    fields = {}
    if token is not None:
        fields["token"] = token
    if password is not None:
        fields["password"] = password
    h = dict(FORM_CT)
    h.update(headers or {})
    return api.post("/v1/auth/password/reset-form",
                    data=urllib.parse.urlencode(fields), headers=h)


# ------------------------------------------------------------ verify page

@pytest.mark.parametrize("locale", PAGE_LANG)
def test_verify_page_ok_in_account_language(api, new_user, db, config_env,
                                            spool, locale):
    u = new_user(locale=locale, display_name=HOSTILE_NAME)
    mail = verify_link(db, config_env, spool, u)
    # the browser asks for another language: the account's wins
    other = {"en": "ru", "uk": "en", "ru": "uk"}[locale]
    r = api.get(mail.link, headers={"Accept-Language": other})
    check_page(r, 200, config_env, "verify_ok", locale,
               {"user_name": HOSTILE_NAME})
    assert "<script>alert" not in r.text and "<b>" not in r.text
    assert user_row(db, u["user"]["id"])["email_verified"] == "true"


@pytest.mark.parametrize("accept,locale", [
    ("uk", "uk"), ("uk-UA,uk;q=0.9,en;q=0.5", "uk"), ("ru-RU", "ru"),
    ("de-DE,ru;q=0.3,uk;q=0.2", "ru"), ("en-GB,uk;q=0.9", "en"),
    ("de", "en"), (None, "en"), ("*", "en"), ("uk;q=0, ru;q=0.1", "ru"),
], ids=lambda v: str(v))
def test_verify_page_failed_in_browser_language(api, config_env, accept,
                                                locale):
    headers = {"Accept-Language": accept} if accept else {}
    r = api.get("/v1/auth/verify-email?token=" + "A" * 43, headers=headers)
    check_page(r, 400, config_env, "verify_failed", locale)


@pytest.mark.parametrize("query", [
    "", "?token=", "?token=%00", "?token=" + "x" * 2000,
    "?token=%3Cscript%3E", "?tok=abc", "?token=a&token=b",
    "?token=%FF%FE", "?token=%zz", "?token=" + "A" * 42 + "%2B",
], ids=["none", "empty", "nul", "long", "script", "other-name", "twice",
        "bad-utf8", "bad-escape", "plus"])
def test_verify_page_bad_query(api, config_env, query):
    r = api.get("/v1/auth/verify-email" + query,
                headers={"Accept-Language": "uk"})
    if "Content-Security-Policy" not in r.headers and query in (
            "?token=%00", "?token=%FF%FE", "?token=%zz"):
        # the front server refused the URL itself
        assert r.status_code == 400, describe(r)
    else:
        check_page(r, 400, config_env, "verify_failed", "uk")
    assert "<script" not in r.text


def test_verify_page_used_and_expired_links(api, new_user, db, config_env,
                                            spool):
    u = new_user(locale="ru")
    mail = verify_link(db, config_env, spool, u)
    age_tokens(db, u["user"]["id"])
    check_page(api.get(mail.link, headers={"Accept-Language": "uk"}), 400,
               config_env, "verify_failed", "uk")
    assert user_row(db, u["user"]["id"])["email_verified"] == "false"

    u = new_user(locale="ru")
    mail = verify_link(db, config_env, spool, u)
    check_page(api.get(mail.link), 200, config_env, "verify_ok", "ru")
    check_page(api.get(mail.link, headers={"Accept-Language": "ru"}), 400,
               config_env, "verify_failed", "ru")


def test_verify_head_and_other_methods(api, config_env):
    r = api.request("PUT", "/v1/auth/verify-email?token=x",
                    json={"token": "x"})
    assert r.status_code in (404, 405), describe(r)


# ------------------------------------------------------------- reset form

@pytest.mark.parametrize("locale", PAGE_LANG)
def test_reset_form_page(api, new_user, db, config_env, spool, locale):
    u = new_user(locale=locale, display_name=HOSTILE_NAME)
    mail = reset_link(api, db, config_env, spool, u)
    token = mail.token
    r = api.get(mail.link, headers={"Accept-Language": "de"})
    page = check_page(r, 200, config_env, "reset_form", locale,
                      form_values(config_env, token, HOSTILE_NAME))
    check_form(page, config_env, token)
    assert "<script>alert" not in r.text and "<b>" not in r.text
    assert "&lt;script&gt;" in r.text
    # looking does not use it up
    assert token_row(db, token)["used_at"] is None
    check_page(api.get(mail.link), 200, config_env, "reset_form", locale,
               form_values(config_env, token, HOSTILE_NAME))


def test_reset_form_weak_then_strong(api, new_user, login, db, config_env,
                                     spool):
    u = new_user(locale="uk", display_name="Тарас")
    uid = u["user"]["id"]
    mail = reset_link(api, db, config_env, spool, u)
    token = mail.token
    before = user_row(db, uid)

    for weak in ("short", "password123", ""):
        r = post_form(api, token, weak, headers=dict(
            FORM_CT, **{"Accept-Language": "en"}))
        page = check_page(r, 400, config_env, "reset_retry", "uk",
                          form_values(config_env, token, "Тарас"))
        check_form(page, config_env, token)
        assert token_row(db, token)["used_at"] is None
        assert user_row(db, uid)["password_hash"] == before["password_hash"]
    r = post_form(api, token, None)
    check_page(r, 400, config_env, "reset_retry", "uk",
               form_values(config_env, token, "Тарас"))

    new_pw = strong_password() + " й"       # UTF-8 survives the form
    r = post_form(api, token, new_pw)
    check_page(r, 200, config_env, "reset_done", "uk")
    assert token_row(db, token)["used_at"] is not None
    assert login(u["email"], new_pw).status_code == 200
    assert login(u["email"], u["password"]).status_code == 401
    # the notice is queued
    assert [r["status"] for r in outbox_rows(db, u["email"],
                                             "password_changed")] \
        == ["pending"]
    # used: the form and the link now fail
    r = post_form(api, token, strong_password(),
                  headers=dict(FORM_CT, **{"Accept-Language": "ru"}))
    check_page(r, 400, config_env, "reset_failed", "ru")
    check_page(api.get(mail.link, headers={"Accept-Language": "ru"}), 400,
               config_env, "reset_failed", "ru")


@pytest.mark.parametrize("case", ["unknown", "missing", "long", "expired",
                                  "json-body", "verify-token"])
def test_reset_form_bad_token(api, new_user, login, db, config_env, spool,
                              case):
    u = new_user(locale="ru")
    mail = reset_link(api, db, config_env, spool, u)
    headers = dict(FORM_CT, **{"Accept-Language": "uk"})
    pw = strong_password()
    if case == "unknown":
        r = post_form(api, "B" * 43, pw, headers=headers)
    elif case == "missing":
        r = post_form(api, None, pw, headers=headers)
    elif case == "long":
        r = post_form(api, mail.token + "A" * 100, pw, headers=headers)
    elif case == "expired":
        age_tokens(db, u["user"]["id"])
        r = post_form(api, mail.token, pw, headers=headers)
    elif case == "json-body":
        r = api.post("/v1/auth/password/reset-form",
                     json={"token": mail.token, "password": pw},
                     headers={"Accept-Language": "uk"})
    else:
        clear_mail_throttle(db, u["email"], "verify_email")
        r = api.post("/v1/auth/verify-email/resend",
                     json={"email": u["email"]})
        assert r.status_code == 202
        _, vmail = file_delivered(db, config_env, spool, u["email"],
                                  "verify_email", after_id=0)
        r = post_form(api, vmail.token, pw, headers=headers)
    check_page(r, 400, config_env, "reset_failed", "uk")
    assert login(u["email"], u["password"]).status_code == 200
    if case != "expired":
        assert token_row(db, mail.token)["used_at"] is None


def test_reset_page_bad_token(api, config_env):
    for accept, locale in (("uk", "uk"), ("ru", "ru"), (None, "en")):
        headers = {"Accept-Language": accept} if accept else {}
        r = api.get("/v1/auth/password/reset?token=" + "C" * 43,
                    headers=headers)
        check_page(r, 400, config_env, "reset_failed", locale)
        r = api.get("/v1/auth/password/reset", headers=headers)
        check_page(r, 400, config_env, "reset_failed", locale)


# ------------------------------------------ escaping of configured values

def test_pages_escape_configured_values(new_user, api, db, config_env,
                                        cgi_bin, spool):
    """Run as plain CGI with a public_url holding '&' and a site name
    with markup: both land escaped in the form and the page."""
    u = new_user(locale="en", display_name="Ann")
    mail = reset_link(api, db, config_env, spool, u)
    base = public_url(config_env) + "/x&y=1"
    site = '<i>"Usher"</i> & Co\'s'
    over = {"USHER_PUBLIC_URL": base, "USHER_SITE_NAME": site}
    status, headers, body = run_cgi(
        cgi_bin, config_env, "auth", "GET",
        "/v1/auth/password/reset?token=" + mail.token, overrides=over,
        headers={"HTTP_X_FORWARDED_FOR": "10.0.0.1"})
    text = body.decode("utf-8")
    env = dict(config_env, **over)
    values = form_values(env, mail.token, "Ann")
    assert status == 200, text[:500]
    assert_same_text(text, expected_page(env, "reset_form", "en",
                                         dict(values, site_name=site)),
                     "reset form")
    assert 'action="%s/v1/auth/password/reset-form"' % base.replace(
        "&", "&amp;") in text
    assert "<i>" not in text and "&lt;i&gt;&quot;Usher&quot;&lt;/i&gt; " \
        "&amp; Co&#39;s" in text
    page = parse_page(text)
    assert page.forms[0]["action"] == base + "/v1/auth/password/reset-form"
    assert headers["content-security-policy"] == page_csp(env)
    assert "no-store" in headers["cache-control"]


def test_frontend_url_redirects_303(new_user, api, db, config_env, cgi_bin,
                                    spool):
    """With frontend_url set, the links' pages are the frontend's: 303
    there, token passed on, not used up."""
    u = new_user()
    mail = reset_link(api, db, config_env, spool, u)
    front = "https://app.example.test/account"
    for path, where in (("/v1/auth/password/reset", "/reset-password"),
                        ("/v1/auth/verify-email", "/verify-email")):
        status, headers, _ = run_cgi(
            cgi_bin, config_env, "auth", "GET",
            path + "?token=" + mail.token,
            overrides={"USHER_FRONTEND_URL": front},
            headers={"HTTP_X_FORWARDED_FOR": "10.0.0.2"})
        assert status == 303, (status, headers)
        assert headers["location"] == front + where + "?token=" + \
            mail.token, headers
    assert token_row(db, mail.token)["used_at"] is None
