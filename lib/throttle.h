/* throttle.h -- rate limits and login backoff, shared by all processes via PostgreSQL */
#ifndef USHER_THROTTLE_H
#define USHER_THROTTLE_H

#include "cfg.h"
#include "err.h"

#define THROTTLE_KEY	320	/* bytes of a counter's key */

/*
 * The key of the counter of `kind` for `who`, for statements that count
 * inside a larger one (SQL: usher_throttle_hit(key, window)).
 */
void		throttle_key(enum rate_kind kind, const char *who, char *buf,
		    size_t sz);

/*
 * Count one request of `kind` for `who` (an address, account or session).
 * USHER_OK, or USHER_ERR_RATE_LIMITED with *retry_after set (seconds).
 */
enum usher_err	throttle_hit(enum rate_kind kind, const char *who,
		    unsigned *retry_after);

/* Whether logins for this account or address are backed off right now. */
enum usher_err	throttle_login_check(const char *login, const char *ip,
		    unsigned *retry_after);
/*
 * Record a failed login. From the cfg.backoff_after-th failure within an
 * hour, logins wait 15 s, doubling per failure, at most cfg.backoff_max.
 */
enum usher_err	throttle_login_failed(const char *login, const char *ip);
/* A successful login clears the account's failures. */
enum usher_err	throttle_login_ok(const char *login);

#endif /* USHER_THROTTLE_H */
