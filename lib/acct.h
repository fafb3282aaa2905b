/* acct.h -- accounts: registration, login, guests, upgrade, profile, passwords */
#ifndef USHER_ACCT_H
#define USHER_ACCT_H

#include <stddef.h>

#include "err.h"
#include "mail.h"
#include "sess.h"
#include "user.h"

struct json_object;

/* Where a request comes from, for sessions and throttling. */
struct client {
	const char	*ip;
	const char	*user_agent;	/* may be NULL */
};

struct newacct {
	const char	*email;
	const char	*password;
	size_t		 passlen;
	const char	*username;	/* may be NULL */
	const char	*display_name;	/* may be NULL */
	const char	*locale;	/* may be NULL: en */
	enum role	 role;
	int		 verified;
};

/*
 * Password hashing and policy from the configuration: the init of every
 * program that takes passwords (it computes the dummy hash, ~0.3 s with
 * the default parameters, and loads the common-password list).
 */
enum usher_err	acct_init(void);

/*
 * Register; with `pair` non-NULL also open a session (in the same
 * transaction). *u is the new user (caller frees). USHER_ERR_WEAK_PASSWORD,
 * USHER_ERR_EMAIL_TAKEN, USHER_ERR_USERNAME_TAKEN, USHER_ERR_RATE_LIMITED.
 */
enum usher_err	acct_register(const struct newacct *, const struct client *,
		    struct user **u, struct tokpair *pair, unsigned *retry);
/*
 * Log in by email or username. Unknown user and wrong password take the
 * same time and give the same USHER_ERR_CREDENTIALS.
 */
enum usher_err	acct_login(const char *login, const char *pw, size_t pwlen,
		    const struct client *, struct user **u,
		    struct tokpair *pair, unsigned *retry);
enum usher_err	acct_guest(const struct client *, struct user **u,
		    struct tokpair *pair, unsigned *retry);
/* Guest to user: same id, email and password set, unverified. */
enum usher_err	acct_upgrade(const struct user *guest, const struct newacct *,
		    const struct client *, struct user **u, unsigned *retry);

/* PATCH /v1/me: fields present in `patch` (already validated) change. */
enum usher_err	acct_update(const char *uid, struct json_object *patch,
		    struct user **u);
/* Change password; other sessions of the user are revoked, `keep` stays. */
enum usher_err	acct_change_password(const struct user *, const char *keep,
		    const char *current, size_t curlen, const char *newpw,
		    size_t newlen, const struct client *, unsigned *retry);

/*
 * The flows that mail (acct_mail.c). Requests by address (forgot, resend,
 * remind) queue a message whether or not the address has an account, so
 * the answer and its cost are the same either way; the worker finds the
 * account. USHER_ERR_RATE_LIMITED per client address, USHER_ERR_MAIL_DISABLED.
 */
enum usher_err	acct_mail_request(enum mail_kind, const char *email,
		    const struct client *, unsigned *retry);
/* Use a verification or email-change token; *u the updated user. */
enum usher_err	acct_verify_email(const char *token, struct user **u);
/* The account a reset token is for, without using it (the reset page). */
enum usher_err	acct_reset_check(const char *token, struct user **u);
/*
 * Use a reset token: new password (policy checked first: a weak one keeps
 * the token), every session revoked, other reset tokens killed, notice
 * queued, the address counted as verified (the link reached it).
 */
enum usher_err	acct_reset_password(const char *token, const char *pw,
		    size_t len);
/*
 * Ask to move u's email to `email` (password required): confirmation to
 * the new address, notice to the old. USHER_ERR_EMAIL_TAKEN.
 */
enum usher_err	acct_change_email(const struct user *u, const char *email,
		    const char *pw, size_t len, const struct client *,
		    unsigned *retry);

/* Administration (usherctl; the admin API later). */
enum usher_err	acct_lookup(const char *id_or_email, struct user **u);
enum usher_err	acct_set_role(const char *uid, enum role);
/* Disabling or deleting also revokes every session. */
enum usher_err	acct_set_status(const char *uid, enum ustatus);
/* Users, oldest first; role/status may be NULL. JSON array of users. */
enum usher_err	acct_list(const char *role, const char *status, int limit,
		    struct json_object **out);

#endif /* USHER_ACCT_H */
