/* err.c -- text of the library's error enum */
#include "config.h"

#include <stddef.h>

#include "err.h"

static const char *const err_text[USHER_ERR__MAX] = {
	[USHER_OK] = "success",
	[USHER_ERR_INTERNAL] = "internal error",
	[USHER_ERR_UNAVAILABLE] = "service unavailable",
	[USHER_ERR_NOT_FOUND] = "not found",
	[USHER_ERR_INVALID] = "invalid input",
	[USHER_ERR_INVALID_JSON] = "malformed JSON",
	[USHER_ERR_MEDIA_TYPE] = "unsupported media type",
	[USHER_ERR_TOO_LARGE] = "payload too large",
	[USHER_ERR_METHOD] = "method not allowed",
	[USHER_ERR_EMAIL_TAKEN] = "email already registered",
	[USHER_ERR_USERNAME_TAKEN] = "username already taken",
	[USHER_ERR_CREDENTIALS] = "invalid credentials",
	[USHER_ERR_NOT_VERIFIED] = "email not verified",
	[USHER_ERR_DISABLED] = "account disabled",
	[USHER_ERR_RATE_LIMITED] = "rate limited",
	[USHER_ERR_BAD_REFRESH] = "invalid refresh token",
	[USHER_ERR_REFRESH_REUSED] = "refresh token reused",
	[USHER_ERR_UNAUTHORIZED] = "unauthorized",
	[USHER_ERR_FORBIDDEN] = "forbidden",
	[USHER_ERR_WEAK_PASSWORD] = "weak password",
	[USHER_ERR_CONFLICT] = "conflict",
	[USHER_ERR_CONFIG] = "unsafe or malformed configuration",
	[USHER_ERR_BAD_TOKEN] = "invalid token",
	[USHER_ERR_ALREADY_UPGRADED] = "account is not a guest",
	[USHER_ERR_LINK_INVALID] = "invalid, used or killed link token",
	[USHER_ERR_LINK_EXPIRED] = "expired link token",
	[USHER_ERR_MAIL_DISABLED] = "mail is disabled",
};

const char *
usher_strerror(enum usher_err e)
{
	if ((unsigned)e >= USHER_ERR__MAX || err_text[e] == NULL)
		return "unknown error";
	return err_text[e];
}
