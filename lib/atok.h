/* atok.h -- single-use tokens sent in mailed links (verification, password
 * reset, email change): 256 random bits, stored only as SHA-256 digests */
#ifndef USHER_ATOK_H
#define USHER_ATOK_H

#include <stddef.h>

#include "err.h"
#include "limits.h"

enum atok_purpose {
	ATOK_VERIFY_EMAIL, ATOK_PASSWORD_RESET, ATOK_EMAIL_CHANGE, ATOK__MAX
};

/* What a valid token names. */
struct atok {
	enum atok_purpose purpose;
	char		 uid[37];
	char		 email[LIM_EMAIL + 1];
};

/*
 * Mint a token of `purpose` for account `uid` and address `email`, carried
 * by outbox message `mail_id`, valid `ttl` seconds; a new password reset
 * kills the account's unused reset tokens of other messages. `token`
 * (size LIM_MAIL_TOKEN + 1) gets the token, `expires` (size 32) its expiry
 * as "YYYY-MM-DD HH:MM UTC". Runs in the caller's transaction.
 */
enum usher_err	atok_mint(enum atok_purpose, const char *uid,
		    const char *email, const char *mail_id, unsigned ttl,
		    char *token, char *expires);

/*
 * Use `token` once if its purpose is `purpose` (or, for ATOK_VERIFY_EMAIL,
 * also ATOK_EMAIL_CHANGE: both are confirmations of an address). Inside
 * the caller's transaction, which must apply the token's effect before
 * committing. USHER_ERR_LINK_INVALID (unknown, used, killed, malformed,
 * NULL) or USHER_ERR_LINK_EXPIRED.
 */
enum usher_err	atok_take(const char *token, enum atok_purpose,
		    struct atok *out);
/* Check `token` without using it (the reset page's form). */
enum usher_err	atok_peek(const char *token, enum atok_purpose,
		    struct atok *out);
/* Kill the account's unused tokens of `purpose`. */
enum usher_err	atok_kill(const char *uid, enum atok_purpose);

#endif /* USHER_ATOK_H */
