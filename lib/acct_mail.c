/* acct_mail.c -- the account flows that go through mail: verification,
 * password reset, username reminder and change of address */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "acct_int.h"
#include "atok.h"
#include "cfg.h"
#include "db.h"
#include "mail.h"
#include "throttle.h"
#include "xmalloc.h"

enum estmt { E_VERIFY, E_MOVE, E_RESET, E_TAKEN, E__MAX };

static struct db_stmt estmts[E__MAX] = {
	/* the token dies with the address it was sent to */
	[E_VERIFY] = { "acct_verify",
	    "UPDATE users AS u SET email_verified = true, updated_at = now() "
	    "WHERE u.id = $1::uuid AND lower(u.email) = lower($2) "
	    "AND u.status = 'active' RETURNING " USER_COLS, 2, 0 },
	[E_MOVE] = { "acct_move_email",
	    "UPDATE users AS u SET email = $2, email_verified = true, "
	    "updated_at = now() WHERE u.id = $1::uuid AND u.status = 'active' "
	    "RETURNING " USER_COLS, 2, 0 },
	[E_RESET] = { "acct_reset",
	    "UPDATE users AS u SET password_hash = $2, updated_at = now(), "
	    "email_verified = u.email_verified OR lower(u.email) = lower($3) "
	    "WHERE u.id = $1::uuid AND u.status = 'active' "
	    "RETURNING " USER_COLS, 3, 0 },
	[E_TAKEN] = { "acct_email_taken",
	    "SELECT 1 FROM users WHERE lower(email) = lower($1)", 1, 0 },
};

/* One row of USER_COLS into *u; USHER_ERR_LINK_INVALID when none. */
static enum usher_err
user_row(enum estmt st, const char *const *p, struct user **u)
{
	enum usher_err	rc;

	rc = acct_user_row(&estmts[st], p, u);
	return rc == USHER_ERR_NOT_FOUND ? USHER_ERR_LINK_INVALID : rc;
}

enum usher_err
acct_mail_request(enum mail_kind kind, const char *email,
    const struct client *cl, unsigned *retry)
{
	char		*lower, *c;
	enum usher_err	 rc;

	if (!cfg.mail_enabled)
		return USHER_ERR_MAIL_DISABLED;
	if ((rc = throttle_hit(RATE_MAIL_IP, cl->ip, retry)) != USHER_OK)
		return rc;
	lower = xstrdup(email);
	for (c = lower; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	rc = mail_enqueue(kind, lower, NULL, NULL);
	free(lower);
	return rc;
}

enum usher_err
acct_verify_email(const char *token, struct user **u)
{
	struct atok	 t;
	const char	*p[2];
	enum usher_err	 rc;

	*u = NULL;
	if ((rc = db_begin()) != USHER_OK)
		return rc;
	if ((rc = atok_take(token, ATOK_VERIFY_EMAIL, &t)) != USHER_OK)
		goto out;
	p[0] = t.uid;
	p[1] = t.email;
	if (t.purpose == ATOK_EMAIL_CHANGE) {
		if ((rc = acct_conflict(user_row(E_MOVE, p, u))) != USHER_OK ||
		    (rc = atok_kill(t.uid, ATOK_EMAIL_CHANGE)) != USHER_OK)
			goto out;
	} else if ((rc = user_row(E_VERIFY, p, u)) != USHER_OK)
		goto out;
	if ((rc = atok_kill(t.uid, ATOK_VERIFY_EMAIL)) == USHER_OK)
		rc = db_commit();
out:
	if (rc != USHER_OK) {
		db_rollback();
		user_free(*u);
		*u = NULL;
	}
	return rc;
}

enum usher_err
acct_reset_check(const char *token, struct user **u)
{
	struct atok	t;
	enum usher_err	rc;

	*u = NULL;
	if ((rc = atok_peek(token, ATOK_PASSWORD_RESET, &t)) != USHER_OK)
		return rc;
	if ((rc = acct_lookup(t.uid, u)) == USHER_ERR_NOT_FOUND)
		return USHER_ERR_LINK_INVALID;
	if (rc == USHER_OK && (*u)->status != USTATUS_ACTIVE) {
		user_free(*u);
		*u = NULL;
		return USHER_ERR_LINK_INVALID;
	}
	return rc;
}

enum usher_err
acct_reset_password(const char *token, const char *pw, size_t len)
{
	struct atok	 t;
	struct user	*u = NULL;
	char		 hash[LIM_SCRYPT_HASH];
	const char	*p[3];
	enum usher_err	 rc;

	/* a bad token or a weak password costs no hash and keeps the token */
	if ((rc = atok_peek(token, ATOK_PASSWORD_RESET, &t)) != USHER_OK)
		return rc;
	if ((rc = acct_hash_new(pw, len, hash)) != USHER_OK)
		return rc;
	if ((rc = db_begin()) != USHER_OK)
		goto out;
	if ((rc = atok_take(token, ATOK_PASSWORD_RESET, &t)) != USHER_OK)
		goto out;
	p[0] = t.uid;
	p[1] = hash;
	p[2] = t.email;
	if ((rc = user_row(E_RESET, p, &u)) != USHER_OK ||
	    (rc = sess_revoke_all(u->id, NULL, "password_reset")) != USHER_OK ||
	    (rc = atok_kill(u->id, ATOK_PASSWORD_RESET)) != USHER_OK ||
	    (rc = mail_enqueue(MAIL_PASSWORD_CHANGED, u->email, u->id,
	    NULL)) != USHER_OK)
		goto out;
	rc = db_commit();
out:
	if (rc != USHER_OK)
		db_rollback();
	else
		/* the owner is back in: lift any login backoff */
		(void)throttle_login_ok(u->id);
	user_free(u);
	explicit_bzero(hash, sizeof(hash));
	return rc;
}

enum usher_err
acct_change_email(const struct user *u, const char *email, const char *pw,
    size_t len, const struct client *cl, unsigned *retry)
{
	struct mail_extra	 x;
	const char		*p[1] = { email };
	enum usher_err		 rc;

	if (u->role == ROLE_GUEST || u->password_hash == NULL)
		return USHER_ERR_FORBIDDEN;
	if (!cfg.mail_enabled)
		return USHER_ERR_MAIL_DISABLED;
	if ((rc = acct_reauth(u, pw, len, cl, retry)) != USHER_OK)
		return rc;
	rc = db_exec_found(&estmts[E_TAKEN], p);
	if (rc == USHER_OK)
		return USHER_ERR_EMAIL_TAKEN;
	if (rc != USHER_ERR_NOT_FOUND)
		return rc;
	memset(&x, 0, sizeof(x));
	x.new_email = email;
	x.old_email = u->email;
	if ((rc = db_begin()) == USHER_OK &&
	    (rc = mail_enqueue(MAIL_EMAIL_CHANGE_CONFIRM, email, u->id,
	    &x)) == USHER_OK &&
	    (rc = mail_enqueue(MAIL_EMAIL_CHANGE_NOTICE, u->email, u->id,
	    &x)) == USHER_OK)
		rc = db_commit();
	if (rc != USHER_OK)
		db_rollback();
	return rc;
}
