/* t_valid.c -- unit tests of lib/valid.c: validators, UTF-8, bounded numbers */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "tap.h"
#include "valid.h"

/* Long strings the tables point at, filled in by make_long(). */
static char	email254[LIM_EMAIL + 1], email255[LIM_EMAIL + 2];
static char	local64[80], local65[80], label63[80], label64[80];
static char	user32[LIM_USERNAME + 1], user33[LIM_USERNAME + 2];
static char	cyr64[LIM_DISPLAY_NAME * 2 + 1];
static char	cyr65[LIM_DISPLAY_NAME * 2 + 3];
static char	ascii64[LIM_DISPLAY_NAME + 1], ascii65[LIM_DISPLAY_NAME + 2];
static char	emoji64[LIM_DISPLAY_NAME * 4 + 1];
static char	rid64[LIM_REQUEST_ID + 1], rid65[LIM_REQUEST_ID + 2];

static void
fill(char *dst, char c, size_t n)
{
	memset(dst, c, n);
	dst[n] = '\0';
}

/* n copies of the UTF-8 sequence u. */
static void
repeat(char *dst, const char *u, size_t n)
{
	size_t	i, len = strlen(u);

	for (i = 0; i < n; i++)
		memcpy(dst + i * len, u, len);
	dst[n * len] = '\0';
}

/* dst = the NULL-terminated list of strings, or bail out if too long. */
static void
join(char *dst, size_t size, ...)
{
	va_list		 ap;
	const char	*s;
	size_t		 len = 0, n;

	va_start(ap, size);
	while ((s = va_arg(ap, const char *)) != NULL) {
		n = strlen(s);
		if (len + n >= size)
			bail_out("join: too long");
		memcpy(dst + len, s, n);
		len += n;
	}
	va_end(ap);
	dst[len] = '\0';
}

static void
make_long(void)
{
	/* 64 + '@' + 63.63.61 = 254; 63.63.62 makes it 255 */
	fill(local64, 'l', 64);
	fill(local65, 'l', 65);
	fill(label63, 'd', 63);
	fill(label64, 'd', 64);
	join(email254, sizeof(email254), local64, "@", label63, ".", label63,
	    ".", label63 + 2, (char *)NULL);
	join(email255, sizeof(email255), local64, "@", label63, ".", label63,
	    ".", label63 + 1, (char *)NULL);
	if (strlen(email254) != 254 || strlen(email255) != 255)
		bail_out("make_long: email lengths");

	fill(user32, 'u', LIM_USERNAME);
	fill(user33, 'u', LIM_USERNAME + 1);
	repeat(cyr64, "\xd0\xaf", LIM_DISPLAY_NAME);		/* U+042F */
	repeat(cyr65, "\xd0\xaf", LIM_DISPLAY_NAME + 1);
	fill(ascii64, 'n', LIM_DISPLAY_NAME);
	fill(ascii65, 'n', LIM_DISPLAY_NAME + 1);
	repeat(emoji64, "\xf0\x9f\x98\x80", LIM_DISPLAY_NAME);	/* U+1F600 */
	fill(rid64, 'r', LIM_REQUEST_ID);
	fill(rid65, 'r', LIM_REQUEST_ID + 1);
}

struct scase {
	int		 line;
	const char	*in;
	int		 want;
};

static void
run(const char *name, int (*f)(const char *), const struct scase *t,
    size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		ok_at(t[i].line, f(t[i].in) == t[i].want, "%s case %zu: %s",
		    name, i, t[i].want ? "accepted" : "refused");
}

static void
test_email(void)
{
	static char	lab63[80], lab64[80], loc64[80], loc65[80];
	static const struct scase t[] = {
		{ __LINE__, "a@b.co", 1 },
		{ __LINE__, "first.last+tag@sub.example.org", 1 },
		{ __LINE__, "user_name-1@example-host.example", 1 },
		{ __LINE__, "!#$%&'*+/=?^_`{|}~-@example.org", 1 },
		{ __LINE__, "A.B@EXAMPLE.ORG", 1 },
		{ __LINE__, email254, 1 },
		{ __LINE__, lab63, 1 },
		{ __LINE__, loc64, 1 },

		{ __LINE__, NULL, 0 },
		{ __LINE__, "", 0 },
		{ __LINE__, "ab.co", 0 },		/* no @ */
		{ __LINE__, "a@b@c.co", 0 },		/* two @ */
		{ __LINE__, "a@@b.co", 0 },
		{ __LINE__, "@b.co", 0 },		/* empty local part */
		{ __LINE__, "a@", 0 },			/* empty domain */
		{ __LINE__, ".a@b.co", 0 },		/* leading dot */
		{ __LINE__, "a.@b.co", 0 },		/* trailing dot */
		{ __LINE__, "a..b@b.co", 0 },		/* double dot */
		{ __LINE__, "a@.b.co", 0 },
		{ __LINE__, "a@b.co.", 0 },
		{ __LINE__, "a@b..co", 0 },
		{ __LINE__, "a@-b.co", 0 }, /* hyphen at a label end */
		{ __LINE__, "a@b-.co", 0 },
		{ __LINE__, "a@b.-co", 0 },
		{ __LINE__, "a@b.co-", 0 },
		{ __LINE__, "a@b_c.co", 0 },
		{ __LINE__, "a@b.co\r", 0 },		/* header injection */
		{ __LINE__, "a@b.co\n", 0 },
		{ __LINE__, "a\r\nBcc: x@y.z@b.co", 0 },
		{ __LINE__, "a\n@b.co", 0 },
		{ __LINE__, "<a@b.co>", 0 },
		{ __LINE__, "a<b@b.co", 0 },
		{ __LINE__, "a>b@b.co", 0 },
		{ __LINE__, "a@b.co>", 0 },
		{ __LINE__, "a b@b.co", 0 },		/* space */
		{ __LINE__, " a@b.co", 0 },
		{ __LINE__, "a@b.co ", 0 },
		{ __LINE__, "a@b .co", 0 },
		{ __LINE__, "a\t@b.co", 0 },
		{ __LINE__, "a,b@b.co", 0 },
		{ __LINE__, "a;b@b.co", 0 },
		{ __LINE__, "a(c)@b.co", 0 },		/* comment */
		{ __LINE__, "a@b.co(c)", 0 },
		{ __LINE__, "a\\b@b.co", 0 },
		{ __LINE__, "\"a\"@b.co", 0 },		/* quoted local part */
		{ __LINE__, "\"a b\"@b.co", 0 },
		{ __LINE__, "\"a@b\"@b.co", 0 },
		{ __LINE__, "a@[192.0.2.1]", 0 },	/* IP literals */
		{ __LINE__, "a@[IPv6:2001:db8::1]", 0 },
		{ __LINE__, "a@localhost", 0 },		/* no dot */
		{ __LINE__, "a@b", 0 },
		{ __LINE__, "\xc3\xa9@b.co", 0 },	/* non-ASCII */
		{ __LINE__, "a@b\xc3\xa9.co", 0 },
		{ __LINE__, "a@xn--b.co\xff", 0 },
		{ __LINE__, "\xd0\xb0@\xd0\xb1.\xd1\x80\xd1\x84", 0 },
		{ __LINE__, email255, 0 },		/* over 254 */
		{ __LINE__, lab64, 0 },			/* label over 63 */
		{ __LINE__, loc65, 0 },			/* local part over 64 */
	};

	join(lab63, sizeof(lab63), "a@", label63, ".co", (char *)NULL);
	join(lab64, sizeof(lab64), "a@", label64, ".co", (char *)NULL);
	join(loc64, sizeof(loc64), local64, "@b.co", (char *)NULL);
	join(loc65, sizeof(loc65), local65, "@b.co", (char *)NULL);
	run("valid_email", valid_email, t, nitems(t));
}

static void
test_username(void)
{
	static const struct scase t[] = {
		{ __LINE__, "abc", 1 },
		{ __LINE__, "Bob", 1 },
		{ __LINE__, "0day", 1 },
		{ __LINE__, "a_b.c-d", 1 },
		{ __LINE__, "a__", 1 },
		{ __LINE__, "a..", 1 },
		{ __LINE__, "ABC123xyz", 1 },
		{ __LINE__, user32, 1 },

		{ __LINE__, NULL, 0 },
		{ __LINE__, "", 0 },
		{ __LINE__, "a", 0 },
		{ __LINE__, "ab", 0 },
		{ __LINE__, user33, 0 },
		{ __LINE__, "_abc", 0 },		/* must start alnum */
		{ __LINE__, ".abc", 0 },
		{ __LINE__, "-abc", 0 },
		{ __LINE__, "ab c", 0 },
		{ __LINE__, " abc", 0 },
		{ __LINE__, "abc ", 0 },
		{ __LINE__, "ab@c", 0 },
		{ __LINE__, "ab/c", 0 },
		{ __LINE__, "ab+c", 0 },
		{ __LINE__, "ab\nc", 0 },
		{ __LINE__, "abc\n", 0 },
		{ __LINE__, "ab\xc3\xa9", 0 },		/* non-ASCII */
		{ __LINE__, "\xd0\xb1\xd0\xbe\xd0\xb1", 0 },
		{ __LINE__, "abc\xff", 0 },
	};

	run("valid_username", valid_username, t, nitems(t));
}

static void
test_display_name(void)
{
	static const struct scase t[] = {
		{ __LINE__, "A", 1 },
		{ __LINE__, "Jane Q. Public", 1 },
		{ __LINE__, "\xd0\x9e\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xb0", 1 },
		{ __LINE__, "\xe5\xb1\xb1\xe7\x94\xb0", 1 },	/* CJK */
		{ __LINE__, "\xf0\x9f\x98\x80", 1 },		/* emoji */
		{ __LINE__, "\xc2\xa0x", 1 },			/* U+00A0 */
		{ __LINE__, "x\xc2\xa9", 1 },			/* U+00A9 */
		{ __LINE__, "x\xc3\x80", 1 },			/* U+00C0 */
		{ __LINE__, ascii64, 1 },
		{ __LINE__, cyr64, 1 },		/* 64 characters, 128 bytes */
		{ __LINE__, emoji64, 1 },	/* 64 characters, 256 bytes */

		{ __LINE__, NULL, 0 },
		{ __LINE__, "", 0 },
		{ __LINE__, ascii65, 0 },
		{ __LINE__, cyr65, 0 },
		/* C0 controls and DEL */
		{ __LINE__, "a\tb", 0 },
		{ __LINE__, "a\nb", 0 },
		{ __LINE__, "a\rb", 0 },
		{ __LINE__, "\x01", 0 },
		{ __LINE__, "a\x1f", 0 },
		{ __LINE__, "a\x1b[31m", 0 },
		{ __LINE__, "a\x7f", 0 },
		/* C1 controls U+0080..U+009F */
		{ __LINE__, "a\xc2\x80", 0 },
		{ __LINE__, "a\xc2\x85z", 0 },			/* NEL */
		{ __LINE__, "\xc2\x9b" "31m", 0 },		/* CSI */
		{ __LINE__, "a\xc2\x9f", 0 },
		/* invalid UTF-8 */
		{ __LINE__, "a\x80", 0 },
		{ __LINE__, "a\xc0\x80", 0 },
		{ __LINE__, "a\xc3", 0 },
		{ __LINE__, "a\xed\xa0\x80", 0 },
		{ __LINE__, "a\xf5\x80\x80\x80", 0 },
		{ __LINE__, "a\xff", 0 },
		{ __LINE__, "\xe2\x82z", 0 },
	};

	run("valid_display_name", valid_display_name, t, nitems(t));
}

static void
test_locale(void)
{
	static const struct scase t[] = {
		{ __LINE__, "en", 1 },
		{ __LINE__, "uk", 1 },
		{ __LINE__, "ru", 1 },
		{ __LINE__, NULL, 0 },
		{ __LINE__, "", 0 },
		{ __LINE__, "EN", 0 },
		{ __LINE__, "En", 0 },
		{ __LINE__, "de", 0 },
		{ __LINE__, "e", 0 },
		{ __LINE__, "enn", 0 },
		{ __LINE__, "en-US", 0 },
		{ __LINE__, "en_US", 0 },
		{ __LINE__, "uk-UA", 0 },
		{ __LINE__, " en", 0 },
		{ __LINE__, "en ", 0 },
		{ __LINE__, "en\n", 0 },
	};

	run("valid_locale", valid_locale, t, nitems(t));
}

static void
test_uuid(void)
{
	static const struct scase t[] = {
		{ __LINE__, "0b5e1f6c-6a4f-4d1e-9d6c-2b1f1c0a9e01", 1 },
		{ __LINE__, "00000000-0000-0000-0000-000000000000", 1 },
		{ __LINE__, "ffffffff-ffff-ffff-ffff-ffffffffffff", 1 },
		{ __LINE__, NULL, 0 },
		{ __LINE__, "", 0 },
		{ __LINE__, "0B5E1F6C-6A4F-4D1E-9D6C-2B1F1C0A9E01", 0 },
		{ __LINE__, "0b5e1f6c-6a4f-4d1e-9d6c-2b1f1c0a9E01", 0 },
		{ __LINE__, "0b5e1f6c6a4f4d1e9d6c2b1f1c0a9e01", 0 },
		{ __LINE__, "{0b5e1f6c-6a4f-4d1e-9d6c-2b1f1c0a9e01}", 0 },
		{ __LINE__, "urn:uuid:0b5e1f6c-6a4f-4d1e-9d6c-2b1f1c0a9e01",
		  0 },
		{ __LINE__, "0b5e1f6c-6a4f-4d1e-9d6c-2b1f1c0a9e0", 0 },
		{ __LINE__, "0b5e1f6c-6a4f-4d1e-9d6c-2b1f1c0a9e011", 0 },
		{ __LINE__, "0b5e1f6c-6a4f-4d1e-9d6c-2b1f1c0a9e0g", 0 },
		{ __LINE__, "0b5e1f6c-6a4f-4d1e-9d6c 2b1f1c0a9e01", 0 },
		{ __LINE__, "0b5e1f6-c6a4f-4d1e-9d6c-2b1f1c0a9e01", 0 },
		{ __LINE__, "0b5e1f6c_6a4f_4d1e_9d6c_2b1f1c0a9e01", 0 },
		{ __LINE__, "0b5e1f6c-6a4f-4d1e-9d6c-2b1f1c0a9e01\n", 0 },
		{ __LINE__, " 0b5e1f6c-6a4f-4d1e-9d6c-2b1f1c0a9e0", 0 },
		{ __LINE__, "------------------------------------", 0 },
	};

	run("valid_uuid", valid_uuid, t, nitems(t));
}

static void
test_request_id(void)
{
	static const struct scase t[] = {
		{ __LINE__, "a", 1 },
		{ __LINE__, "req-1", 1 },
		{ __LINE__, "A.b_C-9", 1 },
		{ __LINE__, "0b5e1f6c-6a4f-4d1e-9d6c-2b1f1c0a9e01", 1 },
		{ __LINE__, "...", 1 },
		{ __LINE__, rid64, 1 },
		{ __LINE__, NULL, 0 },
		{ __LINE__, "", 0 },
		{ __LINE__, rid65, 0 },
		{ __LINE__, "a b", 0 },
		{ __LINE__, "a\n", 0 },
		{ __LINE__, "a\r\nX-Injected: 1", 0 },
		{ __LINE__, "a/b", 0 },
		{ __LINE__, "a:b", 0 },
		{ __LINE__, "a\"b", 0 },
		{ __LINE__, "a=b", 0 },
		{ __LINE__, "a+b", 0 },
		{ __LINE__, "\xc3\xa9", 0 },
	};

	run("valid_request_id", valid_request_id, t, nitems(t));
}

static void
test_utf8(void)
{
	static const struct {
		int		 line;
		const char	*in;
		size_t		 len;	/* 0: strlen */
		int		 want;
		size_t		 chars;	/* utf8_chars when valid */
	} t[] = {
		{ __LINE__, "", 0, 1, 0 },
		{ __LINE__, "abc", 0, 1, 3 },
		{ __LINE__, "\x7f", 0, 1, 1 },
		{ __LINE__, "\xc2\x80", 0, 1, 1 },		/* U+0080 */
		{ __LINE__, "\xdf\xbf", 0, 1, 1 },		/* U+07FF */
		{ __LINE__, "\xe0\xa0\x80", 0, 1, 1 },		/* U+0800 */
		{ __LINE__, "\xed\x9f\xbf", 0, 1, 1 },		/* U+D7FF */
		{ __LINE__, "\xee\x80\x80", 0, 1, 1 },		/* U+E000 */
		{ __LINE__, "\xef\xbf\xbd", 0, 1, 1 },		/* U+FFFD */
		{ __LINE__, "\xef\xbf\xbf", 0, 1, 1 },		/* U+FFFF */
		{ __LINE__, "\xf0\x90\x80\x80", 0, 1, 1 },	/* U+10000 */
		{ __LINE__, "\xf4\x8f\xbf\xbf", 0, 1, 1 },	/* U+10FFFF */
		{ __LINE__, "a\xd0\xaf\xe2\x82\xac\xf0\x9f\x98\x80z", 0, 1, 5 },

		{ __LINE__, "a\0b", 3, 0, 0 },			/* NUL */
		{ __LINE__, "\0", 1, 0, 0 },
		{ __LINE__, "\x80", 0, 0, 0 }, /* continuation */
		{ __LINE__, "\xbf", 0, 0, 0 },
		{ __LINE__, "a\x80z", 0, 0, 0 },
		{ __LINE__, "\xc0\x80", 0, 0, 0 },		/* overlong */
		{ __LINE__, "\xc0\xaf", 0, 0, 0 },
		{ __LINE__, "\xc1\xbf", 0, 0, 0 },
		{ __LINE__, "\xe0\x80\x80", 0, 0, 0 },
		{ __LINE__, "\xe0\x9f\xbf", 0, 0, 0 },
		{ __LINE__, "\xf0\x80\x80\x80", 0, 0, 0 },
		{ __LINE__, "\xf0\x8f\xbf\xbf", 0, 0, 0 },
		{ __LINE__, "\xed\xa0\x80", 0, 0, 0 },		/* surrogates */
		{ __LINE__, "\xed\xbf\xbf", 0, 0, 0 },
		{ __LINE__, "\xed\xa0\xbd\xed\xb8\x80", 0, 0, 0 }, /* CESU-8 */
		{ __LINE__, "\xf4\x90\x80\x80", 0, 0, 0 },	/* > U+10FFFF */
		{ __LINE__, "\xf5\x80\x80\x80", 0, 0, 0 },
		{ __LINE__, "\xf8\x88\x80\x80\x80", 0, 0, 0 },
		{ __LINE__, "\xfe", 0, 0, 0 },
		{ __LINE__, "\xff", 0, 0, 0 },
		{ __LINE__, "\xc3", 0, 0, 0 },			/* truncated */
		{ __LINE__, "\xe2\x82", 0, 0, 0 },
		{ __LINE__, "\xf0\x9f\x98", 0, 0, 0 },
		{ __LINE__, "\xe2\x82z", 0, 0, 0 },
		{ __LINE__, "\xc3z", 0, 0, 0 },
		{ __LINE__, "\xf0\x9f\x98\x80", 3, 0, 0 },	/* cut by len */
		{ __LINE__, "\xd0\xaf", 1, 0, 0 },
	};
	size_t	i, len;

	for (i = 0; i < nitems(t); i++) {
		len = t[i].len != 0 ? t[i].len : strlen(t[i].in);
		ok_at(t[i].line, valid_utf8(t[i].in, len) == t[i].want,
		    "valid_utf8 case %zu: %s", i, t[i].want ? "valid" :
		    "invalid");
		if (t[i].want)
			ok_at(t[i].line, utf8_chars(t[i].in) == t[i].chars,
			    "utf8_chars case %zu: %zu", i, t[i].chars);
	}
	ok(valid_utf8("abc\xff", 3), "only len bytes are read");
	ok(utf8_chars(cyr64) == LIM_DISPLAY_NAME && strlen(cyr64) ==
	    2 * LIM_DISPLAY_NAME, "utf8_chars counts characters, not bytes");
	ok(utf8_chars(emoji64) == LIM_DISPLAY_NAME, "utf8_chars: 4-byte");
}

static void
test_num_parse(void)
{
	static const struct {
		int		 line;
		const char	*in;
		int64_t		 min, max;
		enum usher_err	 want;
		int64_t		 out;
	} t[] = {
		{ __LINE__, "0", 0, 10, USHER_OK, 0 },
		{ __LINE__, "1", 0, 10, USHER_OK, 1 },
		{ __LINE__, "10", 0, 10, USHER_OK, 10 },
		{ __LINE__, "-1", -5, 5, USHER_OK, -1 },
		{ __LINE__, "-5", -5, 5, USHER_OK, -5 },
		{ __LINE__, "123456", 0, INT64_MAX, USHER_OK, 123456 },
		{ __LINE__, "9223372036854775807", 0, INT64_MAX, USHER_OK,
		  INT64_MAX },
		{ __LINE__, "-9223372036854775808", INT64_MIN, 0, USHER_OK,
		  INT64_MIN },
		{ __LINE__, "60", 60, 3600, USHER_OK, 60 },
		{ __LINE__, "3600", 60, 3600, USHER_OK, 3600 },

		/* bounds */
		{ __LINE__, "11", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "-1", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "-6", -5, 5, USHER_ERR_INVALID, 0 },
		{ __LINE__, "59", 60, 3600, USHER_ERR_INVALID, 0 },
		{ __LINE__, "3601", 60, 3600, USHER_ERR_INVALID, 0 },
		{ __LINE__, "0", 1, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "9223372036854775807", 0, INT64_MAX - 1,
		  USHER_ERR_INVALID, 0 },
		/* overflow */
		{ __LINE__, "9223372036854775808", 0, INT64_MAX,
		  USHER_ERR_INVALID, 0 },
		{ __LINE__, "-9223372036854775809", INT64_MIN, INT64_MAX,
		  USHER_ERR_INVALID, 0 },
		{ __LINE__, "99999999999999999999999", INT64_MIN, INT64_MAX,
		  USHER_ERR_INVALID, 0 },
		{ __LINE__, "18446744073709551617", INT64_MIN, INT64_MAX,
		  USHER_ERR_INVALID, 0 },
		/* form */
		{ __LINE__, NULL, 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "+1", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, " 1", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "\t1", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "\n1", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "1 ", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "1\n", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "01", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "00", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "-0", -5, 5, USHER_ERR_INVALID, 0 },
		{ __LINE__, "-01", -5, 5, USHER_ERR_INVALID, 0 },
		{ __LINE__, "-", -5, 5, USHER_ERR_INVALID, 0 },
		{ __LINE__, "--1", -5, 5, USHER_ERR_INVALID, 0 },
		{ __LINE__, "-+1", -5, 5, USHER_ERR_INVALID, 0 },
		{ __LINE__, "- 1", -5, 5, USHER_ERR_INVALID, 0 },
		{ __LINE__, "1x", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "x1", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "0x1", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "1.0", 0, 10, USHER_ERR_INVALID, 0 },
		{ __LINE__, "1e1", 0, 100, USHER_ERR_INVALID, 0 },
		{ __LINE__, "1,000", 0, 10000, USHER_ERR_INVALID, 0 },
		{ __LINE__, "1_000", 0, 10000, USHER_ERR_INVALID, 0 },
		{ __LINE__, "\xd9\xa1", 0, 10, USHER_ERR_INVALID, 0 },
	};
	size_t	i;
	int64_t	out;

	for (i = 0; i < nitems(t); i++) {
		out = 424242;
		ok_at(t[i].line, num_parse(t[i].in, t[i].min, t[i].max, &out) ==
		    t[i].want && out == (t[i].want == USHER_OK ? t[i].out :
		    424242), "num_parse case %zu: \"%s\" in [%lld, %lld]", i,
		    t[i].in != NULL ? t[i].in : "(null)",
		    (long long)t[i].min, (long long)t[i].max);
	}
}

int
main(void)
{
	make_long();
	test_email();
	test_username();
	test_display_name();
	test_locale();
	test_uuid();
	test_request_id();
	test_utf8();
	test_num_parse();
	return done_testing();
}
