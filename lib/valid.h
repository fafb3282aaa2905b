/* valid.h -- pure validators for untrusted strings; each returns 1 or 0 */
#ifndef USHER_VALID_H
#define USHER_VALID_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

int	valid_utf8(const char *s, size_t len);
/* Allow-list email: ASCII local part, dotted domain, <= 254, no CR/LF/<>/NUL. */
int	valid_email(const char *);
/* 3..32 of [a-z0-9_.-] starting with a letter or digit (case-insensitive). */
int	valid_username(const char *);
/* 1..64 characters of printable UTF-8, no control characters. */
int	valid_display_name(const char *);
/* Password text: any valid UTF-8 (the policy, pw_policy, judges the rest). */
int	valid_password_text(const char *);
/* en, uk or ru. */
int	valid_locale(const char *);
/* Canonical lowercase 8-4-4-4-12 UUID. */
int	valid_uuid(const char *);
/* A request id a client may send: 1..64 of [A-Za-z0-9._-]. */
int	valid_request_id(const char *);
/* Number of UTF-8 characters in a valid UTF-8 string. */
size_t	utf8_chars(const char *);

/*
 * Bounded integer parse (OpenBSD's strtonum idea): whole string, decimal,
 * within [min, max]. Returns USHER_OK or USHER_ERR_INVALID.
 */
enum usher_err	num_parse(const char *s, int64_t min, int64_t max, int64_t *out);

#endif /* USHER_VALID_H */
