/* throttle.c -- fixed-window counters and exponential login backoff in PostgreSQL */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "throttle.h"
#include "valid.h"

/* Addresses behind one NAT share failures: they back off later than accounts. */
#define ADDR_BACKOFF_FACTOR	4

enum tstmt { T_HIT, T_CHECK, T_FAIL, T_OK, T__MAX };

static struct db_stmt tstmts[T__MAX] = {
	[T_HIT] = { "throttle_hit",
	    "SELECT hits, retry FROM usher_throttle_hit($1, $2::int)", 2, 0 },
	[T_CHECK] = { "throttle_login_check",
	    "SELECT coalesce(max(ceil(extract(epoch FROM locked_until - now()))), 0)::int "
	    "FROM login_failures WHERE key IN ($1, $2) AND locked_until > now()", 2, 0 },
	[T_FAIL] = { "throttle_login_failed",
	    "INSERT INTO login_failures AS f (key, failures, last_failure_at) "
	    "VALUES ($1, 1, now()) ON CONFLICT (key) DO UPDATE SET "
	    "failures = CASE WHEN f.last_failure_at < now() - interval '1 hour' "
	    "  THEN 1 ELSE f.failures + 1 END, last_failure_at = now(), "
	    "locked_until = CASE WHEN f.last_failure_at >= now() - interval '1 hour' "
	    "  AND f.failures + 1 >= $2::int THEN now() + make_interval(secs => "
	    "  least(15 * power(2, least(f.failures + 1 - $2::int, 20)), $3::int)) END "
	    "RETURNING failures", 3, 0 },
	[T_OK] = { "throttle_login_ok",
	    "DELETE FROM login_failures WHERE key = $1", 1, 0 },
};

static const char *const kind_names[RATE__MAX] = {
	[RATE_LOGIN_IP] = "login_ip",
	[RATE_LOGIN_ACCOUNT] = "login_acct",
	[RATE_REGISTER_IP] = "register_ip",
	[RATE_GUEST_IP] = "guest_ip",
	[RATE_REFRESH_IP] = "refresh_ip",
	[RATE_REFRESH_SESSION] = "refresh_sess",
	[RATE_MAIL_IP] = "mail_ip",
};

/* acct:<login, ASCII-lowercased, at most LIM_LOGIN bytes> */
static void
acct_key(char *buf, size_t sz, const char *login)
{
	size_t	i, n;

	n = (size_t)snprintf(buf, sz, "acct:");
	for (i = 0; login[i] != '\0' && i < LIM_LOGIN && n + 1 < sz; i++)
		buf[n++] = (char)tolower((unsigned char)login[i]);
	buf[n] = '\0';
}

void
throttle_key(enum rate_kind kind, const char *who, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s:%.300s", kind_names[kind], who);
}

enum usher_err
throttle_hit(enum rate_kind kind, const char *who, unsigned *retry)
{
	const struct rate	*rt = &cfg.rate[kind];
	char			 key[THROTTLE_KEY], win[16];
	const char		*p[2];
	PGresult		*res;
	enum usher_err		 rc;
	long			 hits;

	*retry = 0;
	if (rt->count == 0)
		return USHER_OK;
	throttle_key(kind, who, key, sizeof(key));
	snprintf(win, sizeof(win), "%u", rt->window);
	p[0] = key;
	p[1] = win;
	if ((rc = db_exec(&tstmts[T_HIT], p, &res)) != USHER_OK)
		return rc;
	hits = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	*retry = (unsigned)strtoul(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	if (hits > (long)rt->count) {
		log_info("rate limit %s reached", kind_names[kind]);
		return USHER_ERR_RATE_LIMITED;
	}
	return USHER_OK;
}

enum usher_err
throttle_login_check(const char *login, const char *ip, unsigned *retry)
{
	char		 akey[320], ikey[80];
	const char	*p[2] = { akey, ikey };
	PGresult	*res;
	enum usher_err	 rc;

	acct_key(akey, sizeof(akey), login);
	snprintf(ikey, sizeof(ikey), "ip:%s", ip);
	if ((rc = db_exec(&tstmts[T_CHECK], p, &res)) != USHER_OK)
		return rc;
	*retry = (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return *retry > 0 ? USHER_ERR_RATE_LIMITED : USHER_OK;
}

static enum usher_err
fail_one(const char *key, unsigned after)
{
	char		 a[16], m[16];
	const char	*p[3] = { key, a, m };

	snprintf(a, sizeof(a), "%u", after);
	snprintf(m, sizeof(m), "%u", cfg.backoff_max);
	return db_exec(&tstmts[T_FAIL], p, NULL);
}

enum usher_err
throttle_login_failed(const char *login, const char *ip)
{
	char		akey[320], ikey[80];
	enum usher_err	rc;

	acct_key(akey, sizeof(akey), login);
	snprintf(ikey, sizeof(ikey), "ip:%s", ip);
	if ((rc = fail_one(akey, cfg.backoff_after)) != USHER_OK)
		return rc;
	return fail_one(ikey, cfg.backoff_after * ADDR_BACKOFF_FACTOR);
}

enum usher_err
throttle_login_ok(const char *login)
{
	char		 akey[320];
	const char	*p[1] = { akey };

	acct_key(akey, sizeof(akey), login);
	return db_exec(&tstmts[T_OK], p, NULL);
}
