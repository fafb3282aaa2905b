/* me.c -- /v1/me: the caller's account, password and sessions */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "acct.h"
#include "http.h"
#include "sess.h"
#include "valid.h"

#define NF(f)	(sizeof(f) / sizeof((f)[0]))

static const struct jfield patch_fields[] = {
	{ "display_name", JT_STRING, JF_NULLABLE, LIM_DISPLAY_NAME * 4,
	    valid_display_name, "invalid_display_name", 0, 0 },
	{ "username", JT_STRING, 0, LIM_USERNAME, valid_username,
	    "invalid_username", 0, 0 },
	{ "locale", JT_STRING, 0, 2, valid_locale, "invalid_locale", 0, 0 },
	{ "profile", JT_OBJECT, 0, 0, NULL, NULL, 0, 0 },
};

static const struct jfield upgrade_fields[] = {
	{ "email", JT_STRING, JF_REQUIRED, LIM_EMAIL, valid_email,
	    "invalid_email", 0, 0 },
	{ "password", JT_STRING, JF_REQUIRED, 0, valid_password_text,
	    "weak_password", 0, 0 },
	{ "username", JT_STRING, 0, LIM_USERNAME, valid_username,
	    "invalid_username", 0, 0 },
};

static const struct jfield password_fields[] = {
	{ "current_password", JT_STRING, JF_REQUIRED, LIM_PASSWORD, NULL,
	    NULL, 0, 0 },
	{ "new_password", JT_STRING, JF_REQUIRED, 0, valid_password_text,
	    "weak_password", 0, 0 },
};

static const struct jfield email_fields[] = {
	{ "new_email", JT_STRING, JF_REQUIRED, LIM_EMAIL, valid_email,
	    "invalid_email", 0, 0 },
	{ "password", JT_STRING, JF_REQUIRED, LIM_PASSWORD, NULL, NULL, 0, 0 },
};

static void
get_me(struct req *r)
{
	resp_json(r, 200, user_json(r->auth.user));
}

static void
patch_me(struct req *r)
{
	struct json_object	*prof;
	struct user		*u;
	enum usher_err		 rc;

	if (!req_fields(r, patch_fields, NF(patch_fields)))
		return;
	if (json_object_object_get_ex(r->json, "profile", &prof) &&
	    strlen(json_object_to_json_string_ext(prof,
	    JSON_C_TO_STRING_PLAIN)) > LIM_PROFILE_JSON) {
		resp_field_error(r, "too_long", "profile",
		    "the profile is larger than 8 KiB");
		return;
	}
	if ((rc = acct_update(r->auth.uid, r->json, &u)) != USHER_OK) {
		resp_error(r, rc, NULL);
		return;
	}
	resp_json(r, 200, user_json(u));
	user_free(u);
}

static void
post_upgrade(struct req *r)
{
	struct newacct	 n;
	struct client	 cl;
	struct user	*u;
	enum usher_err	 rc;
	unsigned	 retry = 0;

	if (!req_fields(r, upgrade_fields, NF(upgrade_fields)))
		return;
	memset(&n, 0, sizeof(n));
	n.email = json_str(r->json, "email");
	n.password = json_str(r->json, "password");
	n.passlen = strlen(n.password);
	n.username = json_str(r->json, "username");
	cl.ip = r->client_ip;
	cl.user_agent = req_header(r, "User-Agent");
	rc = acct_upgrade(r->auth.user, &n, &cl, &u, &retry);
	if (rc != USHER_OK) {
		resp_fail(r, rc, retry, "password");
		return;
	}
	resp_json(r, 200, user_json(u));
	user_free(u);
}

static void
put_password(struct req *r)
{
	struct client	 cl;
	const char	*cur, *pw;
	enum usher_err	 rc;
	unsigned	 retry = 0;

	if (!req_fields(r, password_fields, NF(password_fields)))
		return;
	cur = json_str(r->json, "current_password");
	pw = json_str(r->json, "new_password");
	cl.ip = r->client_ip;
	cl.user_agent = req_header(r, "User-Agent");
	rc = acct_change_password(r->auth.user, r->auth.sid, cur, strlen(cur),
	    pw, strlen(pw), &cl, &retry);
	if (rc != USHER_OK) {
		resp_fail(r, rc, retry, "new_password");
		return;
	}
	resp_empty(r, 204);
}

static void
post_email(struct req *r)
{
	struct client	 cl;
	const char	*email, *pw;
	enum usher_err	 rc;
	unsigned	 retry = 0;

	if (!req_fields(r, email_fields, NF(email_fields)))
		return;
	email = json_str(r->json, "new_email");
	pw = json_str(r->json, "password");
	cl.ip = r->client_ip;
	cl.user_agent = req_header(r, "User-Agent");
	rc = acct_change_email(r->auth.user, email, pw, strlen(pw), &cl, &retry);
	if (rc != USHER_OK) {
		resp_fail(r, rc, retry, NULL);
		return;
	}
	resp_accepted(r);
}

static void
get_sessions(struct req *r)
{
	struct json_object	*items, *o;
	enum usher_err		 rc;

	if ((rc = sess_list(r->auth.uid, r->auth.sid, &items)) != USHER_OK) {
		resp_error(r, rc, NULL);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "next_cursor", NULL);
	resp_json(r, 200, o);
}

static void
delete_session(struct req *r)
{
	enum usher_err	rc;

	rc = sess_revoke(r->auth.uid, r->params[0], "user");
	if (rc != USHER_OK) {
		resp_error(r, rc, rc == USHER_ERR_NOT_FOUND ?
		    "no such session" : NULL);
		return;
	}
	resp_empty(r, 204);
}

static const struct route routes[] = {
	{ HTTP_GET, "/v1/me", get_me, ROUTE_AUTH },
	{ HTTP_PATCH, "/v1/me", patch_me, ROUTE_AUTH | ROUTE_JSON },
	{ HTTP_POST, "/v1/me/upgrade", post_upgrade, ROUTE_AUTH | ROUTE_JSON },
	{ HTTP_PUT, "/v1/me/password", put_password, ROUTE_AUTH | ROUTE_JSON },
	{ HTTP_POST, "/v1/me/email", post_email, ROUTE_AUTH | ROUTE_JSON },
	{ HTTP_GET, "/v1/me/sessions", get_sessions, ROUTE_AUTH },
	{ HTTP_DELETE, "/v1/me/sessions/{}", delete_session, ROUTE_AUTH },
};

int
main(int argc, char *argv[])
{
	return http_main(argc, argv, routes, NF(routes), acct_init);
}
