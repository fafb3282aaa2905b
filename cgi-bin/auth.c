/* auth.c -- /v1/auth: register, login, guest, refresh, logout */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "acct.h"
#include "cfg.h"
#include "http.h"
#include "sess.h"
#include "throttle.h"
#include "valid.h"

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
};

int
main(int argc, char *argv[])
{
	return http_main(argc, argv, routes, NF(routes), acct_init);
}
