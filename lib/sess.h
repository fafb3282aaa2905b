/* sess.h -- sessions: opening, refresh rotation with grace and reuse
 * detection, listing and revocation */
#ifndef USHER_SESS_H
#define USHER_SESS_H

#include "err.h"

struct json_object;
struct user;

/* An issued pair; both strings owned by the struct (sess_pair_clear). */
struct tokpair {
	char	*access;
	char	*refresh;
	char	 sid[37];
};

void		 sess_pair_clear(struct tokpair *);
/* The contract's token pair object, with the user; caller owns it. */
struct json_object *sess_pair_json(const struct tokpair *, const struct user *);

/*
 * Open a session for u and issue its first pair. Runs inside the caller's
 * transaction if one is open.
 */
enum usher_err	 sess_create(const struct user *u, const char *user_agent,
		    const char *ip, struct tokpair *out);

/*
 * Rotate a refresh token (contract: Token pair). On USHER_OK, *out is the
 * new pair (or, for a retry within the grace period, the same pair as
 * before) and *u the user. USHER_ERR_BAD_REFRESH for unknown, expired or
 * revoked tokens; USHER_ERR_REFRESH_REUSED (session revoked) for reuse;
 * USHER_ERR_RATE_LIMITED (*retry set) past the per-session refresh rate.
 */
enum usher_err	 sess_refresh(const char *token, struct tokpair *out,
		    struct user **u, unsigned *retry);

/* The live session sid of uid with its user, for bearer checks. */
enum usher_err	 sess_principal(const char *sid, const char *uid,
		    struct user **u);
enum usher_err	 sess_revoke(const char *uid, const char *sid,
		    const char *reason);
/* Revoke one session whoever owns it (administration). */
enum usher_err	 sess_revoke_id(const char *sid, const char *reason);
/* Revoke every session of uid but `keep` (NULL: all). */
enum usher_err	 sess_revoke_all(const char *uid, const char *keep,
		    const char *reason);
/* Active sessions of uid, newest first, as JSON items. */
enum usher_err	 sess_list(const char *uid, const char *current,
		    struct json_object **items);

#endif /* USHER_SESS_H */
