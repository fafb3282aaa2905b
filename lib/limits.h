/* limits.h -- every hard limit of usher in one place (cf. SQLite's sqliteLimit.h) */
#ifndef USHER_LIMITS_H
#define USHER_LIMITS_H

/* Request bodies. Configurable up to these ceilings. */
#define LIM_BODY_DEFAULT	(64 * 1024)	/* contract default for JSON bodies */
#define LIM_BODY_MAX		(1024 * 1024)	/* highest body_limit a config may set */
#define LIM_JSON_DEPTH		16		/* nesting depth of a request body */
#define LIM_PROFILE_JSON	(8 * 1024)	/* serialized `profile` object */

/* Request metadata. */
#define LIM_PATH		1024		/* request path */
#define LIM_QUERY		2048		/* query string */
#define LIM_HEADER		8192		/* any one header we read */
#define LIM_PATH_PARAMS		4		/* {id}s in one route */
#define LIM_REQUEST_ID		64		/* accepted X-Request-Id length */
#define LIM_USER_AGENT		256		/* stored user agent */
#define LIM_TRUSTED_PROXIES	16		/* entries in trusted_proxies */
#define LIM_CORS_ORIGINS	16		/* entries in cors_origins */

/* Fields. */
#define LIM_EMAIL		254		/* RFC 5321 path limit */
#define LIM_USERNAME_MIN	3
#define LIM_USERNAME		32
#define LIM_DISPLAY_NAME	64		/* characters, not bytes */
#define LIM_PASSWORD		1024		/* bytes; never truncated */
#define LIM_PASSWORD_MIN	8		/* default minimum, in characters */
#define LIM_PASSWORD_MIN_FLOOR	8		/* config may not go below */
#define LIM_LOGIN		254		/* login field: email or username */
#define LIM_REFRESH_TOKEN	128		/* encoded refresh token we accept */
#define LIM_FIELD_ERRORS	16		/* entries in a problem's `errors` */

/* Tokens. */
#define LIM_JWT_LEN		4096		/* bytes of an access token before decode */
#define LIM_ACCESS_TTL_MIN	60
#define LIM_ACCESS_TTL_MAX	3600
#define LIM_REFRESH_TTL_MIN	3600
#define LIM_REFRESH_TTL_MAX	(90 * 86400)
#define LIM_REFRESH_BYTES	32		/* 256 bits of refresh material */
#define LIM_REFRESH_GRACE_MAX	60		/* seconds */
#define LIM_JWT_LEEWAY		30		/* clock skew allowed on iat/nbf */
#define LIM_KEYS		16		/* verification keys kept */
#define LIM_HS256_SECRET_MIN	32		/* bytes of an HS256 secret */
#define LIM_KEY_RELOAD		30		/* seconds between key set reloads */
#define LIM_VERIFY_CACHE	256		/* verified access tokens remembered */

/* Mail. */
#define LIM_MAIL_TOKEN_BYTES	32		/* 256 random bits in a mailed link */
#define LIM_MAIL_TOKEN		64		/* encoded mailed token we accept */
#define LIM_LINK_TTL_MIN	300		/* seconds a mailed link works, at least */
#define LIM_LINK_TTL_MAX	(30 * 86400)
#define LIM_RESET_TTL_MAX	86400		/* reset links: at most a day */
#define LIM_MAIL_BATCH		500		/* messages per worker transaction */
#define LIM_MAIL_BACKOFF_MAX	(6 * 3600)	/* longest wait between retries */
#define LIM_MAIL_ERROR		500		/* bytes of a stored delivery error */

/* Lists. */
#define LIM_LIST_DEFAULT	20
#define LIM_LIST_MAX		100
#define LIM_SESSIONS_LIST	100		/* sessions shown to one user */

/* scrypt: the weakest parameters a config may choose (OWASP/ASVS 5.0). */
#define LIM_SCRYPT_LOGN_MIN	15
#define LIM_SCRYPT_LOGN_MAX	20
#define LIM_SCRYPT_R_MIN	8
#define LIM_SCRYPT_P_MIN	1
/* N*r*p of N=2^15,r=8,p=3: sets below this are weaker than ASVS 5.0 asks */
#define LIM_SCRYPT_WORK_MIN	((1ULL << 15) * 8 * 3)
#define LIM_SCRYPT_HASH		128		/* bytes of a libscrypt MCF string */

#endif /* USHER_LIMITS_H */
