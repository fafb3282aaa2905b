/* acct_int.h -- what acct.c shares with acct_mail.c, private to the two */
#ifndef USHER_ACCT_INT_H
#define USHER_ACCT_INT_H

#include <stddef.h>

#include "err.h"
#include "limits.h"
#include "user.h"

struct client;
struct db_stmt;

/* Unique violations to the contract's conflicts (email_taken, ...). */
enum usher_err	acct_conflict(enum usher_err);
/* Policy check, then scrypt into out. */
enum usher_err	acct_hash_new(const char *pw, size_t len,
		    char out[LIM_SCRYPT_HASH]);
/*
 * USHER_OK when pw is u's password; equal cost for a NULL or password-less
 * user. *re: the stored hash is weaker than configured.
 */
enum usher_err	acct_check_password(const struct user *u, const char *pw,
		    size_t len, int *re);

/*
 * The signed-in owner confirms an action with the password: counted and
 * backed off like a login (a stolen access token must not become a
 * password oracle). USHER_ERR_CREDENTIALS, USHER_ERR_RATE_LIMITED.
 */
enum usher_err	acct_reauth(const struct user *u, const char *pw, size_t len,
		    const struct client *cl, unsigned *retry);
/* One row of USER_COLS from `st` into *u; USHER_ERR_NOT_FOUND when none. */
enum usher_err	acct_user_row(struct db_stmt *st, const char *const *p,
		    struct user **u);

#endif /* USHER_ACCT_INT_H */
