/* user.h -- the user record, roles and statuses, and its JSON form */
#ifndef USHER_USER_H
#define USHER_USER_H

#include <libpq-fe.h>

#include "limits.h"

struct json_object;

/* Ordered: a role includes the rights of those before it. */
enum role { ROLE_GUEST, ROLE_USER, ROLE_MODERATOR, ROLE_ADMIN, ROLE__MAX };
enum ustatus { USTATUS_ACTIVE, USTATUS_DISABLED, USTATUS_DELETED, USTATUS__MAX };

struct user {
	char		 id[37];
	char		*email;		/* NULL for guests */
	char		*username;	/* may be NULL */
	char		*display_name;	/* may be NULL */
	enum role	 role;
	enum ustatus	 status;
	int		 email_verified;
	char		 locale[3];
	char		*avatar_url;	/* may be NULL */
	char		*profile;	/* JSON object text */
	char		 created_at[32];
	char		 updated_at[32];
	char		*password_hash;	/* never serialized; may be NULL */
};

/*
 * The columns user_from_row() reads, in order, for a users row aliased
 * `u`. Timestamps come formatted by the SQL function usher_ts().
 */
#define USER_COLS \
	"u.id, u.email, u.username, u.display_name, u.role, u.status, " \
	"u.email_verified, u.locale, u.avatar_url, u.profile::text, " \
	"usher_ts(u.created_at), usher_ts(u.updated_at), u.password_hash"
#define USER_NCOLS	13

/* A new user from row `row` starting at column `col`; caller frees. */
struct user		*user_from_row(const PGresult *, int row, int col);
void			 user_free(struct user *);
/* The contract's user object; never the password hash. Caller owns it. */
struct json_object	*user_json(const struct user *);

const char		*role_name(enum role);
enum role		 role_parse(const char *);	/* ROLE__MAX if unknown */
const char		*status_name(enum ustatus);
enum ustatus		 status_parse(const char *);	/* USTATUS__MAX if unknown */

#endif /* USHER_USER_H */
