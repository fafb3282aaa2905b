/* err.h -- the one error enum of the library; HTTP mapping lives in resp.c */
#ifndef USHER_ERR_H
#define USHER_ERR_H

enum usher_err {
	USHER_OK = 0,
	USHER_ERR_INTERNAL,		/* a bug or a library failure: 500 */
	USHER_ERR_UNAVAILABLE,		/* database down or not ready: 503 */
	USHER_ERR_NOT_FOUND,		/* 404 */
	USHER_ERR_INVALID,		/* field errors: 400 validation_failed */
	USHER_ERR_INVALID_JSON,		/* 400 invalid_json */
	USHER_ERR_MEDIA_TYPE,		/* 415 */
	USHER_ERR_TOO_LARGE,		/* 413 */
	USHER_ERR_METHOD,		/* 405 */
	USHER_ERR_EMAIL_TAKEN,		/* 409 */
	USHER_ERR_USERNAME_TAKEN,	/* 409 */
	USHER_ERR_CREDENTIALS,		/* 401 invalid_credentials */
	USHER_ERR_NOT_VERIFIED,		/* 403 email_not_verified */
	USHER_ERR_DISABLED,		/* 403 account_disabled */
	USHER_ERR_RATE_LIMITED,		/* 429 */
	USHER_ERR_BAD_REFRESH,		/* 401 invalid_refresh_token */
	USHER_ERR_REFRESH_REUSED,	/* 401 refresh_token_reused */
	USHER_ERR_UNAUTHORIZED,		/* 401 unauthorized */
	USHER_ERR_FORBIDDEN,		/* 403 forbidden */
	USHER_ERR_WEAK_PASSWORD,	/* 400 weak_password */
	USHER_ERR_CONFLICT,		/* 409 conflict (generic) */
	USHER_ERR_CONFIG,		/* unsafe or malformed configuration */
	USHER_ERR_BAD_TOKEN,		/* a JWT failed verification */
	USHER_ERR_ALREADY_UPGRADED,	/* 409: upgrade of a non-guest */
	USHER_ERR_LINK_INVALID,		/* 400 invalid_token: mailed token */
	USHER_ERR_LINK_EXPIRED,		/* 400 token_expired */
	USHER_ERR_MAIL_DISABLED,	/* 503: mail_enabled is off */
	USHER_ERR__MAX
};

/* Static, human readable text for an error; never NULL. */
const char	*usher_strerror(enum usher_err);

#endif /* USHER_ERR_H */
