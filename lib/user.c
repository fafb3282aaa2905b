/* user.c -- the user record: from a database row to the contract's JSON */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "log.h"
#include "user.h"
#include "xmalloc.h"

static const char *const role_names[ROLE__MAX] = {
	"guest", "user", "moderator", "admin"
};
static const char *const status_names[USTATUS__MAX] = {
	"active", "disabled", "deleted"
};

const char *
role_name(enum role r)
{
	return (unsigned)r < ROLE__MAX ? role_names[r] : "guest";
}

enum role
role_parse(const char *s)
{
	int	i;

	for (i = 0; s != NULL && i < ROLE__MAX; i++)
		if (strcmp(s, role_names[i]) == 0)
			return (enum role)i;
	return ROLE__MAX;
}

const char *
status_name(enum ustatus s)
{
	return (unsigned)s < USTATUS__MAX ? status_names[s] : "disabled";
}

enum ustatus
status_parse(const char *s)
{
	int	i;

	for (i = 0; s != NULL && i < USTATUS__MAX; i++)
		if (strcmp(s, status_names[i]) == 0)
			return (enum ustatus)i;
	return USTATUS__MAX;
}

static char *
opt(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL :
	    xstrdup(PQgetvalue(res, row, col));
}

struct user *
user_from_row(const PGresult *res, int row, int c)
{
	struct user	*u = xcalloc(1, sizeof(*u));

	snprintf(u->id, sizeof(u->id), "%s", PQgetvalue(res, row, c));
	u->email = opt(res, row, c + 1);
	u->username = opt(res, row, c + 2);
	u->display_name = opt(res, row, c + 3);
	u->role = role_parse(PQgetvalue(res, row, c + 4));
	u->status = status_parse(PQgetvalue(res, row, c + 5));
	if (u->role == ROLE__MAX || u->status == USTATUS__MAX) {
		/* the schema's CHECKs make this unreachable; fail closed */
		log_error("user %s has an unknown role or status", u->id);
		u->role = ROLE_GUEST;
		u->status = USTATUS_DISABLED;
	}
	u->email_verified = strcmp(PQgetvalue(res, row, c + 6), "t") == 0;
	snprintf(u->locale, sizeof(u->locale), "%s", PQgetvalue(res, row, c + 7));
	u->avatar_url = opt(res, row, c + 8);
	u->profile = opt(res, row, c + 9);
	snprintf(u->created_at, sizeof(u->created_at), "%s",
	    PQgetvalue(res, row, c + 10));
	snprintf(u->updated_at, sizeof(u->updated_at), "%s",
	    PQgetvalue(res, row, c + 11));
	u->password_hash = opt(res, row, c + 12);
	return u;
}

void
user_free(struct user *u)
{
	if (u == NULL)
		return;
	free(u->email);
	free(u->username);
	free(u->display_name);
	free(u->avatar_url);
	free(u->profile);
	if (u->password_hash != NULL) {
		explicit_bzero(u->password_hash, strlen(u->password_hash));
		free(u->password_hash);
	}
	free(u);
}

static struct json_object *
str_or_null(const char *s)
{
	return s == NULL ? NULL : json_object_new_string(s);
}

struct json_object *
user_json(const struct user *u)
{
	struct json_object	*o = json_object_new_object(), *prof;

	json_object_object_add(o, "id", json_object_new_string(u->id));
	json_object_object_add(o, "email", str_or_null(u->email));
	json_object_object_add(o, "username", str_or_null(u->username));
	json_object_object_add(o, "display_name", str_or_null(u->display_name));
	json_object_object_add(o, "role",
	    json_object_new_string(role_name(u->role)));
	json_object_object_add(o, "status",
	    json_object_new_string(status_name(u->status)));
	json_object_object_add(o, "email_verified",
	    json_object_new_boolean(u->email_verified));
	json_object_object_add(o, "locale", json_object_new_string(u->locale));
	json_object_object_add(o, "avatar_url", str_or_null(u->avatar_url));
	json_object_object_add(o, "created_at",
	    json_object_new_string(u->created_at));
	json_object_object_add(o, "updated_at",
	    json_object_new_string(u->updated_at));
	prof = u->profile ? json_tokener_parse(u->profile) : NULL;
	if (prof == NULL)
		prof = json_object_new_object();
	json_object_object_add(o, "profile", prof);
	return o;
}
