/* valid.c -- allow-list validators for untrusted strings, and bounded numbers */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "valid.h"

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF, and no NUL byte.
 */
int
valid_utf8(const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i = 0, n, k;
	unsigned int		 cp;

	while (i < len) {
		if (s[i] == 0)
			return 0;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			n = 1;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 2;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3;
			cp = s[i] & 0x07;
		} else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

size_t
utf8_chars(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int
is_atext(int c)
{
	return isalnum(c) || strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

static int
valid_domain(const char *d)
{
	size_t	label = 0, labels = 0;
	int	last = 0;

	if (*d == '\0' || *d == '.' || *d == '-')
		return 0;
	for (; *d != '\0'; d++) {
		if (*d == '.') {
			if (label == 0 || last == '-')
				return 0;
			label = 0;
			labels++;
		} else if (isalnum((unsigned char)*d) || *d == '-') {
			if (label == 0 && *d == '-')
				return 0;
			if (++label > 63)
				return 0;
		} else
			return 0;
		last = *d;
	}
	return label > 0 && last != '-' && labels >= 1;
}

/*
 * A deliberately narrow allow-list: dot-atom local part of ASCII atext
 * (RFC 5322 3.2.3), an '@', and a dotted hostname. Quoted local parts,
 * comments, IP literals and anything that could carry CR, LF, <, > or NUL
 * into a mail header are refused.
 */
int
valid_email(const char *s)
{
	const char	*at, *p;
	size_t		 len;

	if (s == NULL || (len = strlen(s)) == 0 || len > LIM_EMAIL)
		return 0;
	if ((at = strchr(s, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return 0;
	if (at == s || at - s > 64 || *s == '.' || at[-1] == '.')
		return 0;
	for (p = s; p < at; p++) {
		if (*p == '.' && p[1] == '.')
			return 0;
		if (*p != '.' && !is_atext((unsigned char)*p))
			return 0;
	}
	return valid_domain(at + 1);
}

int
valid_username(const char *s)
{
	size_t	len, i;

	if (s == NULL)
		return 0;
	len = strlen(s);
	if (len < LIM_USERNAME_MIN || len > LIM_USERNAME)
		return 0;
	if (!isalnum((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("_.-", s[i]) == NULL)
			return 0;
	return 1;
}

int
valid_display_name(const char *s)
{
	const unsigned char	*p;
	size_t			 n;

	if (s == NULL || !valid_utf8(s, strlen(s)))
		return 0;
	n = utf8_chars(s);
	if (n == 0 || n > LIM_DISPLAY_NAME)
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	/* U+0080..U+009F (C1 controls) are encoded as C2 80..C2 9F */
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return 0;
	return 1;
}

int
valid_password_text(const char *s)
{
	return s != NULL && valid_utf8(s, strlen(s));
}

int
valid_locale(const char *s)
{
	return s != NULL && (strcmp(s, "en") == 0 || strcmp(s, "uk") == 0 ||
	    strcmp(s, "ru") == 0);
}

int
valid_uuid(const char *s)
{
	size_t	i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isdigit((unsigned char)s[i]) &&
		    (s[i] < 'a' || s[i] > 'f'))
			return 0;
	}
	return 1;
}

int
valid_request_id(const char *s)
{
	size_t	len, i;

	if (s == NULL || (len = strlen(s)) == 0 || len > LIM_REQUEST_ID)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
			return 0;
	return 1;
}

enum usher_err
num_parse(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s) ||
	    *s == '+' || (*s == '0' && s[1] != '\0'))
		return USHER_ERR_INVALID;
	if (*s == '-' && (s[1] == '0' || s[1] == '\0'))
		return USHER_ERR_INVALID;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return USHER_ERR_INVALID;
	*out = v;
	return USHER_OK;
}
