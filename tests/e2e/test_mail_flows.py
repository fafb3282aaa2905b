"""The mail flows end to end: the web programs queue, a real usher-mailer
delivers over SMTP (STARTTLS + AUTH) to a real server, and the links in
the messages work once, in the account's language.

One SMTP server and one mailer serve the whole module (mailkit's smtp and
mailer fixtures)."""

import pytest

from helpers import (active_sessions, assert_problem, assert_unauthorized,
                     assert_user, describe, strong_password,
                     tables_containing)
import mailkit
from mailkit import (age_tokens, check_addresses, check_mail, check_page,
                     clear_mail_throttle, delivered, outbox_rows, token_row,
                     unique_addr, user_row, wait_row)

# The module's SMTP server and mailer (fixtures are found by name here).
smtp, mailer = mailkit.smtp, mailkit.mailer

ACCEPTED = {"status": "accepted"}
BAD_REFRESH = {"invalid_refresh_token", "refresh_token_reused"}
NAMES = {"en": "Alice Example", "uk": "Олена Приклад", "ru": "Ольга Пример"}
OTHER_LANG = {"en": "uk", "uk": "ru", "ru": "en"}


def accepted(resp):
    assert resp.status_code == 202, describe(resp)
    assert resp.json() == ACCEPTED, describe(resp)
    assert resp.headers.get("Content-Type", "").startswith(
        "application/json"), describe(resp)


def user_name_of(db, user_id):
    """What the mails call the account: display name, username or email."""
    d, n, e = db.query("SELECT display_name, username, email FROM users "
                       "WHERE id = $1::uuid", user_id)[0]
    return d or n or e


def mails_to(smtp, addr):
    return len(smtp.mails(addr))


# ------------------------------------------------------- verification

@pytest.mark.parametrize("locale", ["en", "uk", "ru"])
def test_register_mails_verify_link_in_locale(api, new_user, db, smtp,
                                              mailer, config_env, locale):
    name = NAMES[locale]
    u = new_user(locale=locale, display_name=name)
    uid = u["user"]["id"]
    assert u["user"]["email_verified"] is False
    row, mail = delivered(db, smtp, u["email"], "verify_email")
    assert row["user_id"] == uid
    token = check_mail(db, config_env, mail, row, u["email"], locale,
                       user_name=name, to_name=name)
    if locale == "en":
        # digests only: the token's text is in no table
        assert tables_containing(db, token) == []

    # The link, as a browser follows it (asking for another language:
    # the page is in the account's).
    r = api.get(mail.link, headers={"Accept-Language": OTHER_LANG[locale]})
    check_page(r, 200, config_env, "verify_ok", locale,
               {"user_name": name})
    assert user_row(db, uid)["email_verified"] == "true"
    me = api.get("/v1/me", token=u)
    assert me.status_code == 200, describe(me)
    assert_user(me.json(), id=uid, email_verified=True)

    # Single use: the API and the page both refuse it now.
    assert_problem(api.post("/v1/auth/verify-email", json={"token": token}),
                   400, "invalid_token")
    r = api.get(mail.link, headers={"Accept-Language": locale})
    check_page(r, 400, config_env, "verify_failed", locale)
    assert token_row(db, token)["used_at"] is not None
    assert mails_to(smtp, u["email"]) == 1


def test_resend_mails_new_link_and_post_verifies(api, new_user, db, smtp,
                                                 mailer, config_env):
    u = new_user(locale="ru", display_name=None)
    uid = u["user"]["id"]
    row1, mail1 = delivered(db, smtp, u["email"], "verify_email")
    token1 = check_mail(db, config_env, mail1, row1, u["email"], "ru",
                        user_name=u["username"], to_name="")

    clear_mail_throttle(db, u["email"], "verify_email")
    accepted(api.post("/v1/auth/verify-email/resend",
                      json={"email": u["email"].upper()}))
    row2, mail2 = delivered(db, smtp, u["email"], "verify_email",
                            after_id=row1["id"])
    assert row2["to_addr"] == u["email"].lower()
    token2 = check_mail(db, config_env, mail2, row2, u["email"], "ru",
                        user_name=u["username"], to_name="")
    assert token2 != token1
    assert row2["message_id"] != row1["message_id"]

    r = api.post("/v1/auth/verify-email", json={"token": token2})
    assert r.status_code == 200, describe(r)
    assert set(r.json()) == {"user"}, r.json()
    assert_user(r.json()["user"], id=uid, email=u["email"],
                email_verified=True)
    # verifying killed every other verification link
    assert_problem(api.post("/v1/auth/verify-email", json={"token": token1}),
                   400, "invalid_token")
    assert_problem(api.post("/v1/auth/verify-email", json={"token": token2}),
                   400, "invalid_token")

    # Once verified, a resend has nothing to send.
    clear_mail_throttle(db, u["email"], "verify_email")
    accepted(api.post("/v1/auth/verify-email/resend",
                      json={"email": u["email"]}))
    row3 = wait_row(db, u["email"], "verify_email", after_id=row2["id"])
    assert row3["status"] == "skipped", row3
    assert row3["last_error"] == "already verified", row3
    assert mails_to(smtp, u["email"]) == 2


# -------------------------------------------------------- password reset

def test_forgot_reset_flow(api, new_user, login, db, smtp, mailer,
                           config_env):
    u = new_user(locale="uk", display_name=None)
    uid = u["user"]["id"]
    accepted(api.post("/v1/auth/password/forgot", json={"email": u["email"]}))
    row, mail = delivered(db, smtp, u["email"], "password_reset")
    assert row["user_id"] is None and row["to_addr"] == u["email"]
    token = check_mail(db, config_env, mail, row, u["email"], "uk",
                       user_name=u["username"], to_name="")
    assert token_row(db, token)["user_id"] == uid
    before = user_row(db, uid)

    # a weak password does not use the token
    r = api.post("/v1/auth/password/reset",
                 json={"token": token, "password": "short"})
    assert_problem(r, 400, "weak_password")
    assert token_row(db, token)["used_at"] is None
    assert user_row(db, uid)["password_hash"] == before["password_hash"]

    new_pw = strong_password()
    r = api.post("/v1/auth/password/reset",
                 json={"token": token, "password": new_pw})
    assert r.status_code == 204, describe(r)
    assert r.content == b""
    assert token_row(db, token)["used_at"] is not None
    # no reset link of this account works any more
    assert db.query("SELECT count(*) FROM action_tokens WHERE user_id = "
                    "$1::uuid AND purpose = 'password_reset' AND used_at "
                    "IS NULL", uid) == [("0",)]
    assert login(u["email"], u["password"]).status_code == 401
    assert login(u["email"], new_pw).status_code == 200
    assert_problem(api.post("/v1/auth/password/reset",
                            json={"token": token,
                                  "password": strong_password()}),
                   400, "invalid_token")
    assert login(u["email"], new_pw).status_code == 200

    # the notice of the change, in Ukrainian too
    crow, cmail = delivered(db, smtp, u["email"], "password_changed")
    assert crow["user_id"] == uid
    check_mail(db, config_env, cmail, crow, u["email"], "uk",
               user_name=u["username"], to_name="")
    # each message exactly once: verification, reset, notice
    assert mails_to(smtp, u["email"]) == 3


def test_reset_revokes_every_session(api, new_user, login, db, smtp, mailer):
    u = new_user(locale="en")
    uid = u["user"]["id"]
    r = login(u["email"], u["password"])
    assert r.status_code == 200, describe(r)
    second = r.json()
    sessions = [u, second]
    assert active_sessions(db, uid) == 2

    accepted(api.post("/v1/auth/password/forgot", json={"email": u["email"]}))
    _, mail = delivered(db, smtp, u["email"], "password_reset")
    r = api.post("/v1/auth/password/reset",
                 json={"token": mail.token, "password": strong_password()})
    assert r.status_code == 204, describe(r)

    assert active_sessions(db, uid) == 0
    for s in sessions:
        assert_unauthorized(api.get("/v1/me", token=s["access_token"]))
        r = api.post("/v1/auth/refresh",
                     json={"refresh_token": s["refresh_token"]})
        assert_problem(r, 401, BAD_REFRESH)


def test_second_forgot_kills_first_link(api, new_user, login, db, smtp,
                                        mailer, config_env):
    u = new_user(locale="ru")
    accepted(api.post("/v1/auth/password/forgot", json={"email": u["email"]}))
    row1, mail1 = delivered(db, smtp, u["email"], "password_reset")
    token1 = mail1.token
    assert token_row(db, token1)["used_at"] is None

    clear_mail_throttle(db, u["email"], "password_reset")
    accepted(api.post("/v1/auth/password/forgot", json={"email": u["email"]}))
    row2, mail2 = delivered(db, smtp, u["email"], "password_reset",
                            after_id=row1["id"])
    token2 = mail2.token
    assert token2 != token1
    assert token_row(db, token1)["used_at"] is not None, \
        "the second reset mail left the first link alive"

    new_pw = strong_password()
    assert_problem(api.post("/v1/auth/password/reset",
                            json={"token": token1, "password": new_pw}),
                   400, "invalid_token")
    r = api.get(mail1.link, headers={"Accept-Language": "uk"})
    check_page(r, 400, config_env, "reset_failed", "uk")
    assert login(u["email"], u["password"]).status_code == 200
    r = api.post("/v1/auth/password/reset",
                 json={"token": token2, "password": new_pw})
    assert r.status_code == 204, describe(r)
    assert login(u["email"], new_pw).status_code == 200


# ------------------------------------------------------ username reminder

@pytest.mark.parametrize("has_username", [True, False],
                         ids=["username", "email-only"])
def test_username_reminder(api, new_user, db, smtp, mailer, config_env,
                           has_username):
    if has_username:
        u = new_user(locale="ru", display_name="Ольга")
        expect_login = u["username"]
    else:
        u = new_user(locale="ru", display_name="Ольга", username=None)
        expect_login = u["email"]
    accepted(api.post("/v1/auth/username/remind", json={"email": u["email"]}))
    row, mail = delivered(db, smtp, u["email"], "username_reminder")
    check_mail(db, config_env, mail, row, u["email"], "ru",
               user_name="Ольга", to_name="Ольга", login=expect_login)
    assert expect_login in mail.text
    assert mails_to(smtp, u["email"]) == 2     # verification and reminder


# ------------------------------------------------------------ email change

def test_email_change_flow(api, new_user, login, db, smtp, mailer,
                           config_env):
    u = new_user(locale="en", display_name="Bob Builder")
    uid = u["user"]["id"]
    old, new = u["email"], unique_addr()
    r = api.post("/v1/me/email", json={"new_email": new,
                                       "password": u["password"]}, token=u)
    accepted(r)
    assert user_row(db, uid)["email"] == old      # nothing moves yet

    crow, cmail = delivered(db, smtp, new, "email_change_confirm")
    nrow, nmail = delivered(db, smtp, old, "email_change_notice")
    assert crow["user_id"] == uid and nrow["user_id"] == uid
    assert crow["vars"] == {"new_email": new, "old_email": old}
    token = check_mail(db, config_env, cmail, crow, new, "en",
                       user_name="Bob Builder", to_name="Bob Builder",
                       new_email=new)
    check_mail(db, config_env, nmail, nrow, old, "en",
               user_name="Bob Builder", to_name="Bob Builder",
               new_email=new, old_email=old)
    t = token_row(db, token)
    assert t["email"] == new and t["user_id"] == uid

    r = api.get(cmail.link)
    check_page(r, 200, config_env, "verify_ok", "en",
               {"user_name": "Bob Builder"})
    after = user_row(db, uid)
    assert after["email"] == new and after["email_verified"] == "true"
    me = api.get("/v1/me", token=u)
    assert me.status_code == 200, describe(me)
    assert_user(me.json(), id=uid, email=new, email_verified=True)
    assert login(new, u["password"]).status_code == 200
    assert login(old, u["password"]).status_code == 401

    assert_problem(api.post("/v1/auth/verify-email", json={"token": token}),
                   400, "invalid_token")
    check_page(api.get(cmail.link), 400, config_env, "verify_failed", "en")
    assert user_row(db, uid)["email"] == new
    assert mails_to(smtp, new) == 1
    assert mails_to(smtp, old) == 2     # verification and notice


# --------------------------------------------------- upgrade, password

def test_upgrade_of_guest_mails_verify_link(api, db, smtp, mailer,
                                            config_env):
    r = api.post("/v1/auth/guest")
    assert r.status_code == 201, describe(r)
    guest = r.json()
    uid = guest["user"]["id"]
    addr, pw = unique_addr(), strong_password()
    r = api.post("/v1/me/upgrade", json={"email": addr, "password": pw},
                 token=guest)
    assert r.status_code == 200, describe(r)
    assert_user(r.json(), id=uid, role="user", email=addr,
                email_verified=False)
    row, mail = delivered(db, smtp, addr, "verify_email")
    assert row["user_id"] == uid
    name = user_name_of(db, uid)
    locale = r.json()["locale"]
    check_mail(db, config_env, mail, row, addr, locale, user_name=name)
    check_page(api.get(mail.link), 200, config_env, "verify_ok", locale,
               {"user_name": name})
    assert user_row(db, uid)["email_verified"] == "true"
    assert mails_to(smtp, addr) == 1


def test_password_change_mails_notice(api, new_user, db, smtp, mailer,
                                      config_env):
    u = new_user(locale="ru", display_name="Пётр")
    r = api.put("/v1/me/password",
                json={"current_password": u["password"],
                      "new_password": strong_password()}, token=u)
    assert r.status_code == 204, describe(r)
    row, mail = delivered(db, smtp, u["email"], "password_changed")
    assert row["user_id"] == u["user"]["id"]
    check_mail(db, config_env, mail, row, u["email"], "ru",
               user_name="Пётр", to_name="Пётр")
    assert "Пароль" in mail.subject
    assert mails_to(smtp, u["email"]) == 2


# ----------------------------------------------------------------- expiry

def test_expired_verify_token(api, new_user, db, smtp, mailer, config_env):
    u = new_user(locale="uk")
    uid = u["user"]["id"]
    _, mail = delivered(db, smtp, u["email"], "verify_email")
    t = token_row(db, mail.token)
    assert t["ttl"] == int(config_env.get("USHER_VERIFY_TTL") or 86400)
    age_tokens(db, uid)
    for _ in range(2):      # an expired token keeps saying so
        assert_problem(api.post("/v1/auth/verify-email",
                                json={"token": mail.token}),
                       400, "token_expired")
    check_page(api.get(mail.link, headers={"Accept-Language": "uk"}), 400,
               config_env, "verify_failed", "uk")
    assert user_row(db, uid)["email_verified"] == "false"


def test_expired_reset_token(api, new_user, login, db, smtp, mailer,
                             config_env):
    u = new_user(locale="en")
    uid = u["user"]["id"]
    accepted(api.post("/v1/auth/password/forgot", json={"email": u["email"]}))
    _, mail = delivered(db, smtp, u["email"], "password_reset")
    t = token_row(db, mail.token)
    assert t["ttl"] == int(config_env.get("USHER_RESET_TTL") or 1800)
    before = user_row(db, uid)
    age_tokens(db, uid)
    assert_problem(api.post("/v1/auth/password/reset",
                            json={"token": mail.token,
                                  "password": strong_password()}),
                   400, "token_expired")
    check_page(api.get(mail.link, headers={"Accept-Language": "ru"}), 400,
               config_env, "reset_failed", "ru")
    assert user_row(db, uid)["password_hash"] == before["password_hash"]
    assert login(u["email"], u["password"]).status_code == 200


def test_expired_email_change_token(api, new_user, db, smtp, mailer,
                                    config_env):
    u = new_user()
    uid = u["user"]["id"]
    new = unique_addr()
    accepted(api.post("/v1/me/email", json={"new_email": new,
                                            "password": u["password"]},
                      token=u))
    _, mail = delivered(db, smtp, new, "email_change_confirm")
    t = token_row(db, mail.token)
    assert t["ttl"] == int(config_env.get("USHER_EMAIL_CHANGE_TTL") or 86400)
    age_tokens(db, uid)
    assert_problem(api.post("/v1/auth/verify-email",
                            json={"token": mail.token}),
                   400, "token_expired")
    assert user_row(db, uid)["email"] == u["email"]


# ---------------------------------------------- header injection, delivered

@pytest.mark.parametrize("name", [
    'Олена "Оля" Ковальчук, <boss@example.com>',
    'Mallory, "Eve" <evil@example.com>; Bcc: x@example.com',
    'Bcc: evil@example.com',
    '=?UTF-8?B?PGV2aWxAZXhhbXBsZS5jb20+?= <a@b.c>',
    "O'Brien \\\" (comment) [x] a@b.test",
], ids=["cyrillic-quotes", "ascii-list", "bcc-text", "encoded-word",
        "specials"])
def test_display_name_cannot_add_recipients(new_user, db, smtp, mailer,
                                            config_env, name):
    u = new_user(display_name=name, locale="uk")
    assert u["user"]["display_name"] == name
    row, mail = delivered(db, smtp, u["email"], "verify_email")
    check_mail(db, config_env, mail, row, u["email"], "uk", user_name=name,
               to_name=name)
    check_addresses(mail, u["email"], to_name=name)
    for header in ("Cc", "Bcc"):
        assert mail.msg.get_all(header) is None
    assert mail.envelope["rcpt_tos"] == [u["email"]]
    assert "evil@example.com" not in mail.envelope["rcpt_tos"]
    assert mails_to(smtp, "evil@example.com") == 0
    assert outbox_rows(db, "evil@example.com") == []
