/* auth.c -- /v1/auth: register, login, guest, refresh, logout */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "acct.h"
#include "cfg.h"
#include "http.h"
#include "sess.h"
#include "throttle.h"
#include "tmpl.h"
#include "valid.h"
#include "xmalloc.h"

static int
valid_login(const char *s)
{
	return valid_email(s) || valid_username(s);
}

static int
valid_scope(const char *s)
{
	return strcmp(s, "session") == 0 || strcmp(s, "others") == 0 ||
	    strcmp(s, "all") == 0;
}

static const struct jfield register_fields[] = {
	{ "email", JT_STRING, JF_REQUIRED, LIM_EMAIL, valid_email,
	    "invalid_email", 0, 0 },
	/* length is the policy's business: weak_password, not too_long */
	{ "password", JT_STRING, JF_REQUIRED, 0, valid_password_text,
	    "weak_password", 0, 0 },
	{ "username", JT_STRING, 0, LIM_USERNAME, valid_username,
	    "invalid_username", 0, 0 },
	{ "display_name", JT_STRING, 0, LIM_DISPLAY_NAME * 4,
	    valid_display_name, "invalid_display_name", 0, 0 },
	{ "locale", JT_STRING, 0, 2, valid_locale, "invalid_locale", 0, 0 },
};

static const struct jfield login_fields[] = {
	{ "login", JT_STRING, JF_REQUIRED, LIM_LOGIN, valid_login,
	    "invalid_format", 0, 0 },
	{ "password", JT_STRING, JF_REQUIRED, LIM_PASSWORD, NULL, NULL, 0, 0 },
};

static const struct jfield refresh_fields[] = {
	{ "refresh_token", JT_STRING, JF_REQUIRED, LIM_REFRESH_TOKEN, NULL,
	    NULL, 0, 0 },
};

static const struct jfield logout_fields[] = {
	{ "scope", JT_STRING, 0, 16, valid_scope, "invalid_scope", 0, 0 },
};

static const struct jfield token_fields[] = {
	{ "token", JT_STRING, JF_REQUIRED, LIM_MAIL_TOKEN, NULL, NULL, 0, 0 },
};

static const struct jfield reset_fields[] = {
	{ "token", JT_STRING, JF_REQUIRED, LIM_MAIL_TOKEN, NULL, NULL, 0, 0 },
	{ "password", JT_STRING, JF_REQUIRED, 0, valid_password_text,
	    "weak_password", 0, 0 },
};

static const struct jfield email_fields[] = {
	{ "email", JT_STRING, JF_REQUIRED, LIM_EMAIL, valid_email,
	    "invalid_email", 0, 0 },
};

#define NF(f)	(sizeof(f) / sizeof((f)[0]))

/* The token pair on success (then released), else the failure. */
static void
answer_pair(struct req *r, enum usher_err rc, int status,
    struct tokpair *pair, struct user *u, unsigned retry)
{
	if (rc != USHER_OK) {
		resp_fail(r, rc, retry, "password");
		return;
	}
	resp_json(r, status, sess_pair_json(pair, u));
	sess_pair_clear(pair);
	user_free(u);
}

static void
post_register(struct req *r)
{
	struct newacct		 n;
	struct client		 cl;
	struct tokpair		 pair;
	struct user		*u = NULL;
	struct json_object	*o;
	enum usher_err		 rc;
	unsigned		 retry;
	int			 tokens = !cfg.email_verification;

	if (!req_fields(r, register_fields, NF(register_fields)))
		return;
	memset(&n, 0, sizeof(n));
	n.email = json_str(r->json, "email");
	n.password = json_str(r->json, "password");
	n.passlen = strlen(n.password);
	n.username = json_str(r->json, "username");
	n.display_name = json_str(r->json, "display_name");
	n.locale = json_str(r->json, "locale");
	n.role = ROLE_USER;
	cl.ip = r->client_ip;
	cl.user_agent = req_header(r, "User-Agent");
	rc = acct_register(&n, &cl, &u, tokens ? &pair : NULL, &retry);
	if (rc != USHER_OK) {
		resp_fail(r, rc, retry, "password");
		return;
	}
	if (tokens) {
		o = sess_pair_json(&pair, u);
		sess_pair_clear(&pair);
	} else {
		o = json_object_new_object();
		json_object_object_add(o, "user", user_json(u));
	}
	json_object_object_add(o, "verification_required",
	    json_object_new_boolean(cfg.email_verification));
	user_free(u);
	resp_json(r, 201, o);
}

static void
post_login(struct req *r)
{
	struct client	 cl;
	struct tokpair	 pair;
	struct user	*u;
	const char	*pw;
	enum usher_err	 rc;
	unsigned	 retry;

	if (!req_fields(r, login_fields, NF(login_fields)))
		return;
	cl.ip = r->client_ip;
	cl.user_agent = req_header(r, "User-Agent");
	pw = json_str(r->json, "password");
	rc = acct_login(json_str(r->json, "login"), pw, strlen(pw), &cl, &u,
	    &pair, &retry);
	answer_pair(r, rc, 200, &pair, u, retry);
}

static void
post_guest(struct req *r)
{
	struct client	 cl;
	struct tokpair	 pair;
	struct user	*u;
	enum usher_err	 rc;
	unsigned	 retry;

	cl.ip = r->client_ip;
	cl.user_agent = req_header(r, "User-Agent");
	rc = acct_guest(&cl, &u, &pair, &retry);
	answer_pair(r, rc, 201, &pair, u, retry);
}

static void
post_refresh(struct req *r)
{
	struct tokpair	 pair;
	struct user	*u;
	enum usher_err	 rc;
	unsigned	 retry;

	if (!req_fields(r, refresh_fields, NF(refresh_fields)))
		return;
	if ((rc = throttle_hit(RATE_REFRESH_IP, r->client_ip, &retry)) !=
	    USHER_OK) {
		resp_fail(r, rc, retry, NULL);
		return;
	}
	rc = sess_refresh(json_str(r->json, "refresh_token"), &pair, &u, &retry);
	answer_pair(r, rc, 200, &pair, u, retry);
}

static void
post_logout(struct req *r)
{
	const char	*scope;
	enum usher_err	 rc;

	if (!req_fields(r, logout_fields, NF(logout_fields)))
		return;
	if ((scope = json_str(r->json, "scope")) == NULL)
		scope = "session";
	if (strcmp(scope, "session") == 0)
		rc = sess_revoke(r->auth.uid, r->auth.sid, "logout");
	else
		rc = sess_revoke_all(r->auth.uid, strcmp(scope, "others") == 0 ?
		    r->auth.sid : NULL, "logout");
	if (rc != USHER_OK) {
		resp_error(r, rc, NULL);
		return;
	}
	resp_empty(r, 204);
}

/* ------------------------------------------------------- mail flows */

/* The same answer whether or not the address has an account. */
static void
post_mail_request(struct req *r, enum mail_kind kind)
{
	struct client	 cl;
	enum usher_err	 rc;
	unsigned	 retry = 0;

	if (!req_fields(r, email_fields, NF(email_fields)))
		return;
	cl.ip = r->client_ip;
	cl.user_agent = NULL;
	rc = acct_mail_request(kind, json_str(r->json, "email"), &cl, &retry);
	if (rc != USHER_OK) {
		resp_fail(r, rc, retry, NULL);
		return;
	}
	resp_accepted(r);
}

static void
post_resend(struct req *r)
{
	post_mail_request(r, MAIL_VERIFY_EMAIL);
}

static void
post_forgot(struct req *r)
{
	post_mail_request(r, MAIL_PASSWORD_RESET);
}

static void
post_remind(struct req *r)
{
	post_mail_request(r, MAIL_USERNAME_REMINDER);
}

static void
post_verify(struct req *r)
{
	struct json_object	*o;
	struct user		*u;
	enum usher_err		 rc;

	if (!req_fields(r, token_fields, NF(token_fields)))
		return;
	if ((rc = acct_verify_email(json_str(r->json, "token"), &u)) !=
	    USHER_OK) {
		resp_error(r, rc, NULL);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "user", user_json(u));
	user_free(u);
	resp_json(r, 200, o);
}

static void
post_reset(struct req *r)
{
	const char	*pw;
	enum usher_err	 rc;

	if (!req_fields(r, reset_fields, NF(reset_fields)))
		return;
	pw = json_str(r->json, "password");
	rc = acct_reset_password(json_str(r->json, "token"), pw, strlen(pw));
	if (rc != USHER_OK) {
		resp_fail(r, rc, 0, "password");
		return;
	}
	resp_empty(r, 204);
}

/* --------------------------------------------------------- pages */

/* The page's language: the account's, else the browser's. */
static enum tmpl_locale
page_locale(struct req *r, const struct user *u)
{
	if (u != NULL)
		return tmpl_locale_parse(u->locale);
	return tmpl_locale_accept(req_header(r, "Accept-Language"));
}

/* How a page names the account: its display name, else its address. */
static const char *
page_name(const struct user *u)
{
	return u->display_name != NULL ? u->display_name : u->email;
}

/* A server-rendered page; forms may post back to public_url only. */
static void
answer_page(struct req *r, int status, const char *name,
    enum tmpl_locale loc, struct tmpl_vars *tv)
{
	char	*html, *csp;

	tv->v[TV_SITE_NAME] = cfg.site_name;
	if (tmpl_page(name, loc, tv, &html) != USHER_OK) {
		resp_error(r, USHER_ERR_INTERNAL, NULL);
		return;
	}
	csp = xasprintf("default-src 'none'; style-src 'unsafe-inline'; "
	    "form-action 'self' %s; frame-ancestors 'none'; base-uri 'none'",
	    cfg.public_url);
	resp_header(r, "Content-Security-Policy", csp);
	resp_header(r, "Cache-Control", "no-store");
	resp_raw(r, status, "text/html; charset=utf-8", html, strlen(html));
	free(csp);
	free(html);
}

/* With a frontend configured, pages are its business: 303 there. */
static int
to_frontend(struct req *r, const char *path, const char *token)
{
	char	*link;

	if (cfg.frontend_url == NULL)
		return 0;
	link = tmpl_link(cfg.frontend_url, path, token ? token : "");
	resp_header(r, "Location", link);
	resp_empty(r, 303);
	free(link);
	return 1;
}

static void
get_verify(struct req *r)
{
	struct tmpl_vars	 tv;
	struct user		*u = NULL;
	const char		*token = req_query(r, "token");
	enum usher_err		 rc;

	if (to_frontend(r, "/verify-email", token))
		return;
	memset(&tv, 0, sizeof(tv));
	rc = token ? acct_verify_email(token, &u) : USHER_ERR_LINK_INVALID;
	if (rc == USHER_OK) {
		tv.v[TV_USER_NAME] = page_name(u);
		answer_page(r, 200, "verify_ok", page_locale(r, u), &tv);
	} else if (rc == USHER_ERR_UNAVAILABLE || rc == USHER_ERR_INTERNAL)
		resp_error(r, rc, NULL);
	else
		answer_page(r, 400, "verify_failed", page_locale(r, NULL), &tv);
	user_free(u);
}

/* The reset form for `token` (valid, for account u). */
static void
reset_form(struct req *r, int status, const char *name, const char *token,
    const struct user *u)
{
	struct tmpl_vars	 tv;
	char			*action, min[16];

	memset(&tv, 0, sizeof(tv));
	action = xasprintf("%s/v1/auth/password/reset-form", cfg.public_url);
	snprintf(min, sizeof(min), "%u", cfg.password_min);
	tv.v[TV_ACTION] = action;
	tv.v[TV_TOKEN] = token;
	tv.v[TV_MIN_LENGTH] = min;
	tv.v[TV_USER_NAME] = page_name(u);
	answer_page(r, status, name, page_locale(r, u), &tv);
	free(action);
}

static void
reset_failed(struct req *r, enum usher_err rc)
{
	struct tmpl_vars	tv;

	if (rc == USHER_ERR_UNAVAILABLE || rc == USHER_ERR_INTERNAL) {
		resp_error(r, rc, NULL);
		return;
	}
	memset(&tv, 0, sizeof(tv));
	answer_page(r, 400, "reset_failed", page_locale(r, NULL), &tv);
}

static void
get_reset(struct req *r)
{
	struct user	*u = NULL;
	const char	*token = req_query(r, "token");
	enum usher_err	 rc;

	if (to_frontend(r, "/reset-password", token))
		return;
	rc = acct_reset_check(token, &u);
	if (rc == USHER_OK)
		reset_form(r, 200, "reset_form", token, u);
	else
		reset_failed(r, rc);
	user_free(u);
}

/* The page's form: application/x-www-form-urlencoded token, password. */
static void
post_reset_form(struct req *r)
{
	struct tmpl_vars	 tv;
	struct user		*u = NULL;
	const char		*token = req_form(r, "token");
	const char		*pw = req_form(r, "password");
	enum usher_err		 rc;

	if ((rc = acct_reset_check(token, &u)) != USHER_OK) {
		reset_failed(r, rc);
		return;
	}
	if (pw == NULL || !valid_password_text(pw))
		rc = USHER_ERR_WEAK_PASSWORD;
	else
		rc = acct_reset_password(token, pw, strlen(pw));
	memset(&tv, 0, sizeof(tv));
	if (rc == USHER_OK)
		answer_page(r, 200, "reset_done", page_locale(r, u), &tv);
	else if (rc == USHER_ERR_WEAK_PASSWORD)
		reset_form(r, 400, "reset_retry", token, u);
	else
		reset_failed(r, rc);
	user_free(u);
}

/* Password hashing for the programs' work, templates for the pages. */
static enum usher_err
auth_init(void)
{
	enum usher_err	rc;

	if ((rc = acct_init()) != USHER_OK)
		return rc;
	return tmpl_load(cfg.templates_dir);
}

static const struct route routes[] = {
	{ HTTP_POST, "/v1/auth/register", post_register,
	    ROUTE_JSON | ROUTE_TOKENS },
	{ HTTP_POST, "/v1/auth/login", post_login, ROUTE_JSON | ROUTE_TOKENS },
	{ HTTP_POST, "/v1/auth/guest", post_guest,
	    ROUTE_JSON_OPT | ROUTE_TOKENS },
	{ HTTP_POST, "/v1/auth/refresh", post_refresh,
	    ROUTE_JSON | ROUTE_TOKENS },
	{ HTTP_POST, "/v1/auth/logout", post_logout,
	    ROUTE_JSON_OPT | ROUTE_AUTH },
	{ HTTP_POST, "/v1/auth/verify-email", post_verify, ROUTE_JSON },
	{ HTTP_GET, "/v1/auth/verify-email", get_verify, 0 },
	{ HTTP_POST, "/v1/auth/verify-email/resend", post_resend, ROUTE_JSON },
	{ HTTP_POST, "/v1/auth/password/forgot", post_forgot, ROUTE_JSON },
	{ HTTP_POST, "/v1/auth/password/reset", post_reset, ROUTE_JSON },
	{ HTTP_GET, "/v1/auth/password/reset", get_reset, 0 },
	{ HTTP_POST, "/v1/auth/password/reset-form", post_reset_form, 0 },
	{ HTTP_POST, "/v1/auth/username/remind", post_remind, ROUTE_JSON },
};

int
main(int argc, char *argv[])
{
	return http_main(argc, argv, routes, NF(routes), auth_init);
}
