/* acct.c -- accounts: registration, login, guests, upgrade, profile, passwords */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "acct.h"
#include "acct_int.h"
#include "atok.h"
#include "cfg.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "mail.h"
#include "pw.h"
#include "throttle.h"
#include "valid.h"
#include "xmalloc.h"

enum astmt {
	A_INSERT, A_BY_EMAIL, A_BY_USERNAME, A_BY_ID, A_REHASH, A_GUEST,
	A_UPGRADE, A_UPDATE, A_PASSWORD, A_SET_ROLE, A_SET_STATUS, A_LIST,
	A__MAX
};

static struct db_stmt astmts[A__MAX] = {
	[A_INSERT] = { "acct_insert",
	    "INSERT INTO users AS u (email, password_hash, username, display_name, "
	    "locale, role, email_verified) VALUES ($1, $2, $3, $4, "
	    "coalesce($5, 'en'), $6, $7::boolean) RETURNING " USER_COLS, 7, 0 },
	[A_BY_EMAIL] = { "acct_by_email",
	    "SELECT " USER_COLS " FROM users u WHERE lower(u.email) = lower($1)",
	    1, 0 },
	[A_BY_USERNAME] = { "acct_by_username",
	    "SELECT " USER_COLS " FROM users u WHERE lower(u.username) = lower($1)",
	    1, 0 },
	[A_BY_ID] = { "acct_by_id",
	    "SELECT " USER_COLS " FROM users u WHERE u.id = $1::uuid", 1, 0 },
	[A_REHASH] = { "acct_rehash",
	    "UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3",
	    3, 0 },
	[A_GUEST] = { "acct_guest",
	    "INSERT INTO users AS u (role) VALUES ('guest') RETURNING " USER_COLS,
	    0, 0 },
	[A_UPGRADE] = { "acct_upgrade",
	    "UPDATE users AS u SET email = $2, password_hash = $3, "
	    "username = coalesce($4, u.username), role = 'user', "
	    "email_verified = false, updated_at = now() "
	    "WHERE u.id = $1 AND u.role = 'guest' RETURNING " USER_COLS, 4, 0 },
	[A_UPDATE] = { "acct_update",
	    "UPDATE users AS u SET "
	    "display_name = CASE WHEN $2::boolean THEN $3 ELSE u.display_name END, "
	    "username = coalesce($4, u.username), locale = coalesce($5, u.locale), "
	    "profile = coalesce($6::jsonb, u.profile), updated_at = now() "
	    "WHERE u.id = $1 RETURNING " USER_COLS, 6, 0 },
	[A_PASSWORD] = { "acct_password",
	    "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1",
	    2, 0 },
	[A_SET_ROLE] = { "acct_set_role",
	    "UPDATE users SET role = $2, updated_at = now() WHERE id = $1 "
	    "AND ($2 = 'guest' OR email IS NOT NULL) RETURNING id", 2, 0 },
	[A_SET_STATUS] = { "acct_set_status",
	    "UPDATE users SET status = $2, updated_at = now() WHERE id = $1 "
	    "RETURNING id", 2, 0 },
	[A_LIST] = { "acct_list",
	    "SELECT " USER_COLS " FROM users u WHERE ($1::text IS NULL OR "
	    "u.role = $1) AND ($2::text IS NULL OR u.status = $2) "
	    "ORDER BY u.created_at, u.id LIMIT $3::int", 3, 0 },
};

enum usher_err
acct_init(void)
{
	enum usher_err	rc;

	if ((rc = pw_init(cfg.scrypt_n, cfg.scrypt_r, cfg.scrypt_p,
	    cfg.allow_weak_scrypt, cfg.password_min)) != USHER_OK)
		return rc;
	return pw_load_common(cfg.common_passwords) == USHER_OK ? USHER_OK :
	    USHER_ERR_CONFIG;
}

enum usher_err
acct_user_row(struct db_stmt *st, const char *const *p, struct user **u)
{
	PGresult	*res;
	enum usher_err	 rc;

	*u = NULL;
	if ((rc = db_exec(st, p, &res)) != USHER_OK)
		return rc;
	if (PQntuples(res) > 0)
		*u = user_from_row(res, 0, 0);
	PQclear(res);
	return *u ? USHER_OK : USHER_ERR_NOT_FOUND;
}

static enum usher_err
one_user(enum astmt st, const char *const *p, struct user **u)
{
	return acct_user_row(&astmts[st], p, u);
}

/* Unique violations to the contract's conflicts. */
enum usher_err
acct_conflict(enum usher_err rc)
{
	if (rc != USHER_ERR_CONFLICT)
		return rc;
	if (strcmp(db_constraint(), "users_username_key") == 0)
		return USHER_ERR_USERNAME_TAKEN;
	return USHER_ERR_EMAIL_TAKEN;
}

enum usher_err
acct_hash_new(const char *pw, size_t len, char out[LIM_SCRYPT_HASH])
{
	enum usher_err	rc;

	if ((rc = pw_policy(pw, len)) != USHER_OK)
		return rc;
	return pw_hash(pw, len, out);
}

enum usher_err
acct_register(const struct newacct *n, const struct client *cl,
    struct user **u, struct tokpair *pair, unsigned *retry)
{
	char		 hash[LIM_SCRYPT_HASH];
	const char	*p[7];
	enum usher_err	 rc;

	*u = NULL;
	if (pair != NULL)
		memset(pair, 0, sizeof(*pair));
	if (cl != NULL &&
	    (rc = throttle_hit(RATE_REGISTER_IP, cl->ip, retry)) != USHER_OK)
		return rc;
	if (n->password != NULL) {
		if ((rc = acct_hash_new(n->password, n->passlen, hash)) != USHER_OK)
			return rc;
	}
	p[0] = n->email;
	p[1] = n->password ? hash : NULL;
	p[2] = n->username;
	p[3] = n->display_name;
	p[4] = n->locale;
	p[5] = role_name(n->role);
	p[6] = n->verified ? "true" : "false";
	if ((rc = db_begin()) != USHER_OK)
		goto out;
	if ((rc = acct_conflict(one_user(A_INSERT, p, u))) != USHER_OK)
		goto out;
	if (!n->verified && n->email != NULL &&
	    (rc = mail_enqueue(MAIL_VERIFY_EMAIL, (*u)->email, (*u)->id,
	    NULL)) != USHER_OK)
		goto out;
	if (pair != NULL &&
	    (rc = sess_create(*u, cl->user_agent, cl->ip, pair)) != USHER_OK)
		goto out;
	rc = db_commit();
out:
	explicit_bzero(hash, sizeof(hash));
	if (rc != USHER_OK) {
		db_rollback();
		if (pair != NULL)
			sess_pair_clear(pair);
		user_free(*u);
		*u = NULL;
	}
	return rc;
}

static enum usher_err
find_login(const char *login, struct user **u)
{
	const char	*p[1] = { login };

	return one_user(strchr(login, '@') ? A_BY_EMAIL : A_BY_USERNAME, p, u);
}

/* Upgrade a stored hash made with weaker parameters than configured. */
static void
rehash(const struct user *u, const char *pw, size_t len)
{
	char		 hash[LIM_SCRYPT_HASH];
	const char	*p[3];

	if (pw_hash(pw, len, hash) != USHER_OK)
		return;
	p[0] = u->id;
	p[1] = hash;
	p[2] = u->password_hash;
	if (db_exec(&astmts[A_REHASH], p, NULL) == USHER_OK)
		log_info("password of %s rehashed", u->id);
	explicit_bzero(hash, sizeof(hash));
}

/* Password check with equal cost whether or not the user exists. */
enum usher_err
acct_check_password(const struct user *u, const char *pw, size_t len, int *re)
{
	*re = 0;
	if (u == NULL || u->password_hash == NULL ||
	    u->status == USTATUS_DELETED) {
		pw_verify_dummy(pw, len);
		return USHER_ERR_CREDENTIALS;
	}
	return pw_verify(pw, len, u->password_hash, re) == USHER_OK ?
	    USHER_OK : USHER_ERR_CREDENTIALS;
}

enum usher_err
acct_reauth(const struct user *u, const char *pw, size_t len,
    const struct client *cl, unsigned *retry)
{
	enum usher_err	rc;
	int		re;

	/* a stolen access token must not become a password oracle */
	if ((rc = throttle_login_check(u->id, cl->ip, retry)) != USHER_OK)
		return rc;
	if ((rc = acct_check_password(u, pw, len, &re)) != USHER_OK)
		(void)throttle_login_failed(u->id, cl->ip);
	return rc;
}

/*
 * Limits and backoff count per account, whichever form (email, username)
 * named it; unknown logins count under the text given.
 */
static enum usher_err
login_limits(const char *key, const struct client *cl, unsigned *retry)
{
	enum usher_err	rc;

	if ((rc = throttle_hit(RATE_LOGIN_ACCOUNT, key, retry)) != USHER_OK)
		return rc;
	return throttle_login_check(key, cl->ip, retry);
}

enum usher_err
acct_login(const char *login, const char *pw, size_t len,
    const struct client *cl, struct user **u, struct tokpair *pair,
    unsigned *retry)
{
	const char	*key;
	enum usher_err	 rc;
	int		 re;

	*u = NULL;
	memset(pair, 0, sizeof(*pair));
	if ((rc = throttle_hit(RATE_LOGIN_IP, cl->ip, retry)) != USHER_OK)
		return rc;
	rc = find_login(login, u);
	if (rc != USHER_OK && rc != USHER_ERR_NOT_FOUND)
		return rc;
	key = *u != NULL ? (*u)->id : login;
	if ((rc = login_limits(key, cl, retry)) != USHER_OK)
		goto fail;
	if ((rc = acct_check_password(*u, pw, len, &re)) != USHER_OK) {
		(void)throttle_login_failed(key, cl->ip);
		goto fail;
	}
	/* only the owner of the password learns the account's state */
	if ((*u)->status == USTATUS_DISABLED) {
		rc = USHER_ERR_DISABLED;
		goto fail;
	}
	if (cfg.email_verification && !(*u)->email_verified &&
	    (*u)->role != ROLE_GUEST) {
		rc = USHER_ERR_NOT_VERIFIED;
		goto fail;
	}
	if (re)
		rehash(*u, pw, len);
	(void)throttle_login_ok(key);
	if ((rc = sess_create(*u, cl->user_agent, cl->ip, pair)) == USHER_OK)
		return USHER_OK;
fail:
	user_free(*u);
	*u = NULL;
	return rc;
}

enum usher_err
acct_guest(const struct client *cl, struct user **u, struct tokpair *pair,
    unsigned *retry)
{
	enum usher_err	rc;

	*u = NULL;
	memset(pair, 0, sizeof(*pair));
	if ((rc = throttle_hit(RATE_GUEST_IP, cl->ip, retry)) != USHER_OK)
		return rc;
	if ((rc = db_begin()) != USHER_OK)
		return rc;
	if ((rc = one_user(A_GUEST, NULL, u)) == USHER_OK &&
	    (rc = sess_create(*u, cl->user_agent, cl->ip, pair)) == USHER_OK &&
	    (rc = db_commit()) == USHER_OK)
		return USHER_OK;
	db_rollback();
	user_free(*u);
	*u = NULL;
	return rc;
}

enum usher_err
acct_upgrade(const struct user *g, const struct newacct *n,
    const struct client *cl, struct user **u, unsigned *retry)
{
	char		 hash[LIM_SCRYPT_HASH];
	const char	*p[4];
	enum usher_err	 rc;

	*u = NULL;
	if (g->role != ROLE_GUEST)
		return USHER_ERR_ALREADY_UPGRADED;
	if ((rc = throttle_hit(RATE_REGISTER_IP, cl->ip, retry)) != USHER_OK)
		return rc;
	if ((rc = acct_hash_new(n->password, n->passlen, hash)) != USHER_OK)
		return rc;
	p[0] = g->id;
	p[1] = n->email;
	p[2] = hash;
	p[3] = n->username;
	if ((rc = db_begin()) == USHER_OK &&
	    (rc = acct_conflict(one_user(A_UPGRADE, p, u))) == USHER_OK &&
	    (rc = mail_enqueue(MAIL_VERIFY_EMAIL, (*u)->email, (*u)->id,
	    NULL)) == USHER_OK)
		rc = db_commit();
	if (rc != USHER_OK) {
		db_rollback();
		user_free(*u);
		*u = NULL;
	}
	explicit_bzero(hash, sizeof(hash));
	/* a concurrent upgrade of the same guest won the race */
	return rc == USHER_ERR_NOT_FOUND ? USHER_ERR_ALREADY_UPGRADED : rc;
}

enum usher_err
acct_update(const char *uid, struct json_object *patch, struct user **u)
{
	struct json_object	*prof;
	const char		*p[6];
	enum usher_err		 rc;

	p[0] = uid;
	p[1] = json_has(patch, "display_name") ? "true" : "false";
	p[2] = json_str(patch, "display_name");
	p[3] = json_str(patch, "username");
	p[4] = json_str(patch, "locale");
	p[5] = NULL;
	if (json_object_object_get_ex(patch, "profile", &prof) && prof != NULL)
		p[5] = json_object_to_json_string_ext(prof,
		    JSON_C_TO_STRING_PLAIN);
	rc = acct_conflict(one_user(A_UPDATE, p, u));
	return rc;
}

enum usher_err
acct_change_password(const struct user *u, const char *keep,
    const char *cur, size_t curlen, const char *newpw, size_t newlen,
    const struct client *cl, unsigned *retry)
{
	char		 hash[LIM_SCRYPT_HASH];
	const char	*p[2];
	enum usher_err	 rc;

	if (u->role == ROLE_GUEST || u->password_hash == NULL)
		return USHER_ERR_FORBIDDEN;
	if ((rc = acct_reauth(u, cur, curlen, cl, retry)) != USHER_OK)
		return rc;
	if ((rc = acct_hash_new(newpw, newlen, hash)) != USHER_OK)
		return rc;
	p[0] = u->id;
	p[1] = hash;
	if ((rc = db_begin()) == USHER_OK &&
	    (rc = db_exec(&astmts[A_PASSWORD], p, NULL)) == USHER_OK &&
	    (rc = sess_revoke_all(u->id, keep, "password")) == USHER_OK &&
	    (rc = atok_kill(u->id, ATOK_PASSWORD_RESET)) == USHER_OK &&
	    (rc = mail_enqueue(MAIL_PASSWORD_CHANGED, u->email, u->id,
	    NULL)) == USHER_OK)
		rc = db_commit();
	if (rc != USHER_OK)
		db_rollback();
	explicit_bzero(hash, sizeof(hash));
	return rc;
}

enum usher_err
acct_lookup(const char *key, struct user **u)
{
	const char	*p[1] = { key };

	*u = NULL;
	if (valid_uuid(key))
		return one_user(A_BY_ID, p, u);
	if (strchr(key, '@') != NULL)
		return one_user(A_BY_EMAIL, p, u);
	return one_user(A_BY_USERNAME, p, u);
}

static enum usher_err
update_one(enum astmt st, const char *uid, const char *val)
{
	const char	*p[2] = { uid, val };

	return db_exec_found(&astmts[st], p);
}

enum usher_err
acct_set_role(const char *uid, enum role r)
{
	return update_one(A_SET_ROLE, uid, role_name(r));
}

enum usher_err
acct_set_status(const char *uid, enum ustatus s)
{
	enum usher_err	rc;

	if ((rc = db_begin()) != USHER_OK)
		return rc;
	if ((rc = update_one(A_SET_STATUS, uid, status_name(s))) == USHER_OK &&
	    (s == USTATUS_ACTIVE ||
	    (rc = sess_revoke_all(uid, NULL, "disabled")) == USHER_OK))
		rc = db_commit();
	if (rc != USHER_OK)
		db_rollback();
	return rc;
}

enum usher_err
acct_list(const char *role, const char *status, int limit,
    struct json_object **out)
{
	char			 lim[16];
	const char		*p[3] = { role, status, lim };
	PGresult		*res;
	struct json_object	*a;
	struct user		*u;
	enum usher_err		 rc;
	int			 i;

	snprintf(lim, sizeof(lim), "%d", limit);
	if ((rc = db_exec(&astmts[A_LIST], p, &res)) != USHER_OK)
		return rc;
	a = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++) {
		u = user_from_row(res, i, 0);
		json_object_array_add(a, user_json(u));
		user_free(u);
	}
	PQclear(res);
	*out = a;
	return USHER_OK;
}
