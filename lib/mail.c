/* mail.c -- the outbox: queueing with the causing change, and its administration
 * (delivery is maild.c's, so the web programs do not load libcurl) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cfg.h"
#include "db.h"
#include "log.h"
#include "mail.h"
#include "mime.h"
#include "xmalloc.h"

static const char *const kinds[MAIL__MAX] = {
	[MAIL_VERIFY_EMAIL] = "verify_email",
	[MAIL_PASSWORD_RESET] = "password_reset",
	[MAIL_PASSWORD_CHANGED] = "password_changed",
	[MAIL_USERNAME_REMINDER] = "username_reminder",
	[MAIL_EMAIL_CHANGE_CONFIRM] = "email_change_confirm",
	[MAIL_EMAIL_CHANGE_NOTICE] = "email_change_notice",
	[MAIL_NOTIFICATION] = "notification",
};

enum mstmt { M_ENQUEUE, M_LIST, M_SHOW, M_REQUEUE, M__MAX };

#define ROW_COLS \
	"id, kind, to_addr, user_id, vars::text, message_id, status, " \
	"attempts, usher_ts(next_attempt_at), last_error, locale, " \
	"usher_ts(created_at), usher_ts(sent_at)"
static const char *const row_names[] = {
	"id", "kind", "to", "user_id", "vars", "message_id", "status",
	"attempts", "next_attempt_at", "last_error", "locale", "created_at",
	"sent_at",
};

static struct db_stmt mstmts[M__MAX] = {
	[M_ENQUEUE] = { "mail_enqueue",
	    "SELECT usher_mail_enqueue($1, $2, $3::uuid, $4::jsonb, $5::int, $6)",
	    6, 0 },
	/* the account: the row's, or for requests by address the owner's */
	[M_LIST] = { "mail_list",
	    "SELECT " ROW_COLS " FROM mail_outbox WHERE ($1::text IS NULL OR "
	    "status = $1) ORDER BY id DESC LIMIT $2::int", 2, 0 },
	[M_SHOW] = { "mail_show",
	    "SELECT " ROW_COLS " FROM mail_outbox WHERE id = $1::bigint", 1, 0 },
	[M_REQUEUE] = { "mail_requeue",
	    "UPDATE mail_outbox SET status = 'pending', attempts = 0, "
	    "next_attempt_at = now(), last_error = NULL "
	    "WHERE status = 'failed' AND ($1::bigint IS NULL OR id = $1::bigint) "
	    "RETURNING id", 1, 0 },
};

const char *
mail_kind_name(enum mail_kind k)
{
	return (unsigned)k < MAIL__MAX ? kinds[k] : "unknown";
}

enum mail_kind
mail_kind_parse(const char *s)
{
	size_t	i;

	for (i = 0; s != NULL && i < MAIL__MAX; i++)
		if (strcmp(s, kinds[i]) == 0)
			return (enum mail_kind)i;
	return MAIL__MAX;
}

static void
add_str(struct json_object *o, const char *k, const char *v)
{
	if (v != NULL)
		json_object_object_add(o, k, json_object_new_string(v));
}

enum usher_err
mail_enqueue(enum mail_kind kind, const char *to, const char *uid,
    const struct mail_extra *x)
{
	struct json_object	*vars = NULL;
	char			 cap[16];
	const char		*p[6];
	enum usher_err		 rc;

	if (!cfg.mail_enabled)
		return USHER_OK;
	p[3] = "{}";	/* most messages: the account row gives every value */
	if (x != NULL) {
		vars = json_object_new_object();
		add_str(vars, "new_email", x->new_email);
		add_str(vars, "old_email", x->old_email);
		add_str(vars, "title", x->title);
		add_str(vars, "body", x->body);
		p[3] = json_object_to_json_string_ext(vars,
		    JSON_C_TO_STRING_PLAIN);
	}
	snprintf(cap, sizeof(cap), "%u", cfg.mail_hourly_cap);
	p[0] = kinds[kind];
	p[1] = to;
	p[2] = uid;
	p[4] = cap;
	p[5] = cfg.mail_domain;
	/* with the COMMIT, when in a transaction: no round trip of its own */
	rc = db_exec_at_commit(&mstmts[M_ENQUEUE], p);
	json_object_put(vars);
	if (rc == USHER_OK)
		db_notify_later("usher_mail");
	return rc;
}

/* ------------------------------------------------------ administration */

static struct json_object *
row_json(const PGresult *res, int row)
{
	struct json_object	*o = json_object_new_object(), *v;
	const char		*s;
	size_t			 i;

	for (i = 0; i < sizeof(row_names) / sizeof(row_names[0]); i++) {
		v = NULL;
		s = PQgetisnull(res, row, (int)i) ? NULL :
		    PQgetvalue(res, row, (int)i);
		if (s != NULL && (i == 0 || i == 7))
			v = json_object_new_int64(strtoll(s, NULL, 10));
		else if (s != NULL && i == 4)
			v = json_tokener_parse(s);
		else if (s != NULL)
			v = json_object_new_string(s);
		json_object_object_add(o, row_names[i], v);
	}
	return o;
}

enum usher_err
mail_list(const char *status, int limit, struct json_object **out)
{
	char		 lim[16];
	const char	*p[2] = { status, lim };
	PGresult	*res;
	enum usher_err	 rc;
	int		 i;

	snprintf(lim, sizeof(lim), "%d", limit);
	if ((rc = db_exec(&mstmts[M_LIST], p, &res)) != USHER_OK)
		return rc;
	*out = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++)
		json_object_array_add(*out, row_json(res, i));
	PQclear(res);
	return USHER_OK;
}

enum usher_err
mail_show(const char *id, struct json_object **out)
{
	const char	*p[1] = { id };
	PGresult	*res;
	enum usher_err	 rc;

	*out = NULL;
	if (id == NULL || *id == '\0' || strspn(id, "0123456789") != strlen(id) ||
	    strlen(id) > 18)
		return USHER_ERR_NOT_FOUND;
	if ((rc = db_exec(&mstmts[M_SHOW], p, &res)) != USHER_OK)
		return rc;
	if (PQntuples(res) == 1)
		*out = row_json(res, 0);
	PQclear(res);
	return *out != NULL ? USHER_OK : USHER_ERR_NOT_FOUND;
}

enum usher_err
mail_retry(const char *id, int *n)
{
	const char	*p[1] = { id };
	PGresult	*res;
	enum usher_err	 rc;

	*n = 0;
	if (id != NULL && (*id == '\0' ||
	    strspn(id, "0123456789") != strlen(id) || strlen(id) > 18))
		return USHER_ERR_NOT_FOUND;
	if ((rc = db_exec(&mstmts[M_REQUEUE], p, &res)) != USHER_OK)
		return rc;
	*n = PQntuples(res);
	PQclear(res);
	if (*n > 0)
		db_notify_later("usher_mail");
	return id != NULL && *n == 0 ? USHER_ERR_NOT_FOUND : USHER_OK;
}
