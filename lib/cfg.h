/* cfg.h -- configuration: a key = value file overridden by USHER_* variables */
#ifndef USHER_CFG_H
#define USHER_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "limits.h"
#include "log.h"

enum cfg_alg { CFG_ALG_ES256, CFG_ALG_RS256, CFG_ALG_HS256, CFG_ALG__MAX };

/* Throttled actions; each has a per-window count (0 disables the limit). */
enum rate_kind {
	RATE_LOGIN_IP,		/* login attempts per client address */
	RATE_LOGIN_ACCOUNT,	/* login attempts per account (login field) */
	RATE_REGISTER_IP,	/* registrations and upgrades per address */
	RATE_GUEST_IP,		/* guest accounts per address */
	RATE_REFRESH_IP,	/* refreshes per address */
	RATE_REFRESH_SESSION,	/* refreshes per session */
	RATE_MAIL_IP,		/* forgot, resend and remind per address */
	RATE__MAX
};

struct rate {
	unsigned	 count;		/* allowed per window; 0: unlimited */
	unsigned	 window;	/* seconds */
};

struct cfg {
	char		*database_url;	/* libpq conninfo */
	char		*issuer;	/* JWT iss */
	char		*audience;	/* JWT aud */
	char		*public_url;	/* base URL for links, never from Host */
	enum cfg_alg	 jwt_alg;	/* algorithm of new signing keys */
	char		*jwt_secret;	/* HS256 only; >= LIM_HS256_SECRET_MIN */
	unsigned	 access_ttl;	/* seconds */
	unsigned	 refresh_ttl;	/* seconds */
	unsigned	 refresh_grace;	/* seconds a just-rotated token may replay */
	int		 email_verification; /* 1: login needs a verified email */
	unsigned	 password_min;	/* minimum password length, characters */
	char		*common_passwords; /* path of the refused-password list */
	uint64_t	 scrypt_n;
	uint32_t	 scrypt_r;
	uint32_t	 scrypt_p;
	int		 allow_weak_scrypt; /* tests and benchmarks only */
	size_t		 body_limit;	/* bytes */
	char		*trusted_proxies[LIM_TRUSTED_PROXIES];
	size_t		 ntrusted_proxies;
	char		*cors_origins[LIM_CORS_ORIGINS];
	size_t		 ncors_origins;
	struct rate	 rate[RATE__MAX];
	unsigned	 backoff_after;	/* failed logins before backoff starts */
	unsigned	 backoff_max;	/* seconds; at most 900 */
	enum log_level	 log_level;
	char		*docs_dir;	/* openapi.json and the docs page */

	/* mail */
	int		 mail_enabled;	/* 0: nothing is queued (no mail flows) */
	char		*mail_transport; /* "file" or "smtp" */
	char		*mail_spool;	/* file transport's folder */
	char		*mail_from;	/* "Name <addr>" or "addr" */
	/* mail_from's address, and its domain (for Message-IDs): cfg_check */
	char		 mail_from_addr[LIM_EMAIL + 1];
	char		 mail_domain[LIM_EMAIL + 1];
	char		*mail_reply_to;	/* may be NULL */
	char		*smtp_url;	/* smtp://host:587 (STARTTLS) or smtps:// */
	char		*smtp_user;	/* may be NULL: no AUTH */
	char		*smtp_password;	/* may be NULL */
	char		*smtp_ca_file;	/* may be NULL: the system's CAs */
	char		*smtp_helo;	/* may be NULL */
	unsigned	 smtp_timeout;	/* seconds per message */
	unsigned	 mail_retry_base; /* seconds before the first retry */
	unsigned	 mail_max_attempts; /* then the message fails */
	unsigned	 mail_poll;	/* worker's poll interval, seconds */
	unsigned	 mail_batch;	/* messages per worker transaction */
	unsigned	 mail_hourly_cap; /* per recipient and kind; 0: none */
	char		*site_name;	/* {{site_name}} in mails and pages */
	char		*frontend_url;	/* links go there when set */
	char		*templates_dir;
	unsigned	 verify_ttl;	/* seconds a verification link works */
	unsigned	 reset_ttl;	/* seconds a reset link works */
	unsigned	 email_change_ttl; /* seconds an email change link works */
};

/* The process-wide configuration, valid after cfg_load(). */
extern struct cfg cfg;

/*
 * Fill `c` with defaults, then the file (path, or $USHER_CONFIG, or
 * SYSCONFDIR/usher/usher.conf; a missing default file is not an error),
 * then USHER_<KEY> variables from `envp` (NULL: environ), then check the
 * result is safe. On error, `err` holds a message naming the key.
 */
enum usher_err	 cfg_load(struct cfg *c, const char *path, char *const *envp,
		    char *err, size_t errsz);
void		 cfg_defaults(struct cfg *c);
/* Set one key from text; the unit tests call this directly. */
enum usher_err	 cfg_set(struct cfg *c, const char *key, const char *val,
		    char *err, size_t errsz);
/* Parse a whole file's text (key = value lines, # comments). */
enum usher_err	 cfg_parse(struct cfg *c, const char *text, char *err,
		    size_t errsz);
/*
 * Refuse unsafe combinations: weak scrypt, short HS256 secret, ...; and
 * fill the fields derived from others (mail_from_addr, mail_domain).
 */
enum usher_err	 cfg_check(struct cfg *c, char *err, size_t errsz);
void		 cfg_free(struct cfg *c);

#endif /* USHER_CFG_H */
