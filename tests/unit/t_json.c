/* t_json.c -- unit tests of lib/json.c: strict parsing, checks, getters */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "limits.h"
#include "tap.h"
#include "valid.h"

#define MAXERR	8

/* Parse s (len bytes, or strlen(s) when len is 0); 1 if accepted. */
static int
accepts(const char *s, size_t len)
{
	static int		 dummy;
	struct json_object	*o;
	enum usher_err		 rc;
	int			 good;

	o = (struct json_object *)(void *)&dummy;	/* must become NULL */
	rc = json_parse_strict(s, len != 0 ? len : strlen(s), &o);
	good = rc == USHER_OK && o != NULL;
	if (rc != USHER_OK && o != NULL) {
		diag("json_parse_strict failed but left *out set");
		good = -1;
	}
	if (rc == USHER_OK)
		json_object_put(o);
	return good;
}

static void
test_strict(void)
{
	static const struct {
		int		 line;
		const char	*in;
		size_t		 len;	/* 0: strlen */
		int		 want;	/* 1: accepted */
	} t[] = {
		/* plain objects */
		{ __LINE__, "{}", 0, 1 },
		{ __LINE__, "{\"a\":1}", 0, 1 },
		{ __LINE__, "{\"a\":\"b\",\"c\":[1,2,{\"d\":null}],\"e\":true,"
		  "\"f\":false,\"g\":-1.5e3}", 0, 1 },
		{ __LINE__, " \t\r\n{\"a\":1}", 0, 1 },	/* leading space */
		{ __LINE__, "{} ", 0, 1 }, /* trailing space */
		{ __LINE__, "{\"a\":1}\r\n\t \n", 0, 1 },
		{ __LINE__, "[]", 0, 1 },			/* any value */
		{ __LINE__, "{\"s\":\"\\u00e9\\u20ac\"}", 0, 1 },
		{ __LINE__, "{\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
		  0, 1 },
		{ __LINE__, "{\"s\":\"\\ud83d\\ude00\"}", 0, 1 }, /* pair */
		/* the same key at different levels is no duplicate */
		{ __LINE__, "{\"a\":{\"a\":{\"a\":1}}}", 0, 1 },
		{ __LINE__, "{\"a\":1,\"b\":{\"a\":2},\"c\":[{\"a\":3},"
		  "{\"a\":4}]}", 0, 1 },
		/* brackets, quotes and commas inside strings are text */
		{ __LINE__, "{\"a\":\"{\\\"b\\\":1,\\\"b\\\":2}\"}", 0, 1 },
		{ __LINE__, "{\"a\\\"b\":1,\"a\\\"c\":2}", 0, 1 },
		{ __LINE__, "{\"a\":\"[{,\",\"b\":\"}]\"}", 0, 1 },
		{ __LINE__, "{\"a\":\"\\\\\",\"b\":\"\\\\\"}", 0, 1 },
		/* an escaped backslash, then the text u0000: no NUL */
		{ __LINE__, "{\"s\":\"\\\\u0000\"}", 0, 1 },
		{ __LINE__, "{\"\\\\u0000\":1}", 0, 1 },

		/* empty and blank input */
		{ __LINE__, "", 0, 0 },
		{ __LINE__, " \n", 0, 0 },
		/* comments */
		{ __LINE__, "{\"a\":1} // comment", 0, 0 },
		{ __LINE__, "// comment\n{\"a\":1}", 0, 0 },
		{ __LINE__, "{\"a\":1 // comment\n}", 0, 0 },
		{ __LINE__, "{/* comment */}", 0, 0 },
		{ __LINE__, "{\"a\":/* comment */1}", 0, 0 },
		{ __LINE__, "{\"a\":1}/* comment */", 0, 0 },
		{ __LINE__, "# comment\n{}", 0, 0 },
		/* single quotes, bare words */
		{ __LINE__, "{'a':1}", 0, 0 },
		{ __LINE__, "{\"a\":'b'}", 0, 0 },
		{ __LINE__, "{a:1}", 0, 0 },
		{ __LINE__, "{\"a\":True}", 0, 0 },
		{ __LINE__, "{\"a\":undefined}", 0, 0 },
		/* NaN and the infinities, whatever the case */
		{ __LINE__, "{\"a\":NaN}", 0, 0 },
		{ __LINE__, "{\"a\":nan}", 0, 0 },
		{ __LINE__, "{\"a\":Infinity}", 0, 0 },
		{ __LINE__, "{\"a\":-Infinity}", 0, 0 },
		{ __LINE__, "{\"a\":infinity}", 0, 0 },
		/* numbers RFC 8259 does not have */
		{ __LINE__, "{\"a\":01}", 0, 0 },
		{ __LINE__, "{\"a\":.5}", 0, 0 },
		{ __LINE__, "{\"a\":1.}", 0, 0 },
		{ __LINE__, "{\"a\":+1}", 0, 0 },
		{ __LINE__, "{\"a\":0x10}", 0, 0 },
		{ __LINE__, "{\"a\":-}", 0, 0 },
		/* trailing commas */
		{ __LINE__, "{\"a\":1,}", 0, 0 },
		{ __LINE__, "{\"a\":[1,2,]}", 0, 0 },
		{ __LINE__, "[1,]", 0, 0 },
		{ __LINE__, "{,}", 0, 0 },
		/* anything but whitespace after the value */
		{ __LINE__, "{} x", 0, 0 },
		{ __LINE__, "{}{}", 0, 0 },
		{ __LINE__, "{}}", 0, 0 },
		{ __LINE__, "{\"a\":1}]", 0, 0 },
		{ __LINE__, "{} \f", 0, 0 },
		{ __LINE__, "{} \v", 0, 0 },
		/* unterminated */
		{ __LINE__, "{", 0, 0 },
		{ __LINE__, "{\"a\":1", 0, 0 },
		{ __LINE__, "{\"a\":\"b}", 0, 0 },
		/* duplicate keys, at the top and nested */
		{ __LINE__, "{\"a\":1,\"a\":2}", 0, 0 },
		{ __LINE__, "{\"a\":1,\"a\":1}", 0, 0 },
		{ __LINE__, "{\"a\":1,\"b\":2,\"a\":3}", 0, 0 },
		{ __LINE__, "{\"x\":{\"a\":1,\"a\":2}}", 0, 0 },
		{ __LINE__, "{\"x\":[{\"k\":1},{\"k\":1,\"k\":2}]}", 0, 0 },
		{ __LINE__, "{\"a\":{\"b\":1},\"a\":{\"c\":1}}", 0, 0 },
		{ __LINE__, "{\"a\":1,\"\\u0061\":2}", 0, 0 },
		{ __LINE__, "{\"\\u0061\":1,\"a\":2}", 0, 0 },
		{ __LINE__, "{\"x\":{\"ab\":1,\"a\\u0062\":2}}", 0, 0 },
		{ __LINE__, "{\"\\u00e9\":1,\"\xc3\xa9\":2}", 0, 0 },
		/* NUL: raw anywhere, or \u0000 in a value or a key */
		{ __LINE__, "{\"a\":\"b\0c\"}", 11, 0 },
		{ __LINE__, "{\"a\":1}\0", 8, 0 },
		{ __LINE__, "\0{\"a\":1}", 8, 0 },
		{ __LINE__, "{\"a\"\0:1}", 8, 0 },
		{ __LINE__, "{\"a\":\"\\u0000\"}", 0, 0 },
		{ __LINE__, "{\"a\":\"x\\u0000y\"}", 0, 0 },
		{ __LINE__, "{\"\\u0000\":1}", 0, 0 },
		{ __LINE__, "{\"a\\u0000b\":1}", 0, 0 },
		{ __LINE__, "{\"x\":[\"\\u0000\"]}", 0, 0 },
		/* an escaped backslash, then \u0000 */
		{ __LINE__, "{\"a\":\"\\\\\\u0000\"}", 0, 0 },
		/* invalid UTF-8, in values and in keys */
		{ __LINE__, "{\"a\":\"\xc0\x80\"}", 0, 0 }, /* overlong NUL */
		{ __LINE__, "{\"a\":\"\xc1\xbf\"}", 0, 0 },	/* overlong */
		{ __LINE__, "{\"a\":\"\xe0\x80\xaf\"}", 0, 0 }, /* overlong / */
		{ __LINE__, "{\"a\":\"\xf0\x80\x80\xaf\"}", 0, 0 },
		{ __LINE__, "{\"a\":\"\x80\"}", 0, 0 },	/* lone continuation */
		{ __LINE__, "{\"a\":\"x\xbfy\"}", 0, 0 },
		{ __LINE__, "{\"a\":\"\xed\xa0\x80\"}", 0, 0 }, /* surrogate */
		{ __LINE__, "{\"a\":\"\xed\xbf\xbf\"}", 0, 0 },
		{ __LINE__, "{\"a\":\"\xf5\x80\x80\x80\"}", 0, 0 }, /* F5 */
		{ __LINE__, "{\"a\":\"\xf4\x90\x80\x80\"}", 0, 0 }, /* > 10FFFF */
		{ __LINE__, "{\"a\":\"\xff\"}", 0, 0 },
		{ __LINE__, "{\"a\":\"\xe2\x82\"}", 0, 0 },	/* truncated */
		{ __LINE__, "{\"a\":\"\xf0\x9f\x98\"}", 0, 0 },
		{ __LINE__, "{\"\xc0\x80\":1}", 0, 0 },
		{ __LINE__, "{\"\xed\xa0\x80\":1}", 0, 0 },
		{ __LINE__, "{\"\x80\":1}", 0, 0 },
		/* raw control characters inside strings (RFC 8259 7.) */
		{ __LINE__, "{\"a\":\"x\x01y\"}", 0, 0 },
		{ __LINE__, "{\"a\":\"x\ty\"}", 0, 0 },
		{ __LINE__, "{\"a\":\"x\ny\"}", 0, 0 },
		/* bad escapes */
		{ __LINE__, "{\"a\":\"\\x41\"}", 0, 0 },
		{ __LINE__, "{\"a\":\"\\u00\"}", 0, 0 },
		{ __LINE__, "{\"a\":\"\\\"}", 0, 0 },
	};
	size_t	i;

	for (i = 0; i < nitems(t); i++)
		ok_at(t[i].line, accepts(t[i].in, t[i].len) == t[i].want,
		    "%s: case %zu (%zu bytes)", t[i].want ? "accepted" :
		    "rejected", i, t[i].len != 0 ? t[i].len : strlen(t[i].in));

	ok(json_parse_strict(NULL, 0, &(struct json_object *){ NULL }) ==
	    USHER_ERR_INVALID_JSON, "NULL buffer rejected");
	ok(json_parse_strict("{}", 0, &(struct json_object *){ NULL }) ==
	    USHER_ERR_INVALID_JSON, "length 0 rejected");
}

/* The length given is what is parsed, not up to a NUL. */
static void
test_length(void)
{
	struct json_object	*o;

	ok(json_parse_strict("{\"a\":1}garbage", 7, &o) == USHER_OK &&
	    json_int64(o, "a") == 1, "only len bytes are read");
	json_object_put(o);
	ok(json_parse_strict("{\"a\":1}", 6, &o) == USHER_ERR_INVALID_JSON &&
	    o == NULL, "a cut object is rejected, *out NULL");
}

/* A lone surrogate escape must not turn into invalid UTF-8. */
static void
test_surrogate_escape(void)
{
	static const struct {
		int		 line;
		const char	*in;
	} t[] = {
		{ __LINE__, "{\"a\":\"\\ud800\"}" },
		{ __LINE__, "{\"a\":\"\\udc00x\"}" },
		{ __LINE__, "{\"a\":\"\\ud800\\u0041\"}" },
	};
	struct json_object	*o;
	const char		*s;
	size_t			 i;

	for (i = 0; i < nitems(t); i++) {
		if (json_parse_strict(t[i].in, strlen(t[i].in), &o) !=
		    USHER_OK) {
			ok_at(t[i].line, 1, "lone surrogate case %zu rejected",
			    i);
			continue;
		}
		s = json_str(o, "a");
		ok_at(t[i].line, s != NULL && valid_utf8(s, strlen(s)),
		    "lone surrogate case %zu decodes to valid UTF-8", i);
		json_object_put(o);
	}
}

/*
 * depth nested containers: arrays around 1, objects around 1, both
 * alternating, or arrays around nothing (the innermost one empty).
 */
static char *
nested(int depth, int kind)
{
	char	*s, *p;
	int	 i;

	if ((s = malloc((size_t)depth * 6 + 2)) == NULL)
		bail_out("malloc");
	p = s;
	for (i = 0; i < depth; i++) {
		if (kind == 0 || kind == 3 || (kind == 2 && i % 2 == 1))
			*p++ = '[';
		else {
			memcpy(p, "{\"a\":", 5);
			p += 5;
		}
	}
	if (kind != 3)
		*p++ = '1';
	for (i = depth - 1; i >= 0; i--)
		*p++ = (kind == 0 || kind == 3 || (kind == 2 && i % 2 == 1)) ?
		    ']' : '}';
	*p = '\0';
	return s;
}

static void
test_depth(void)
{
	static const struct {
		int	 line;
		int	 depth;
		int	 want;
	} t[] = {
		{ __LINE__, 1, 1 },
		{ __LINE__, LIM_JSON_DEPTH - 1, 1 },
		{ __LINE__, LIM_JSON_DEPTH, 1 },	/* json.h: <= */
		{ __LINE__, LIM_JSON_DEPTH + 1, 0 },
		{ __LINE__, 100, 0 },
		{ __LINE__, 10000, 0 },
	};
	static const char *const kinds[] = { "arrays", "objects", "mixed",
	    "empty arrays" };
	char	*s;
	size_t	 i;
	int	 k;

	for (i = 0; i < nitems(t); i++)
		for (k = 0; k < (int)nitems(kinds); k++) {
			s = nested(t[i].depth, k);
			ok_at(t[i].line, accepts(s, 0) == t[i].want,
			    "depth %d of %s %s", t[i].depth, kinds[k],
			    t[i].want ? "accepted" : "rejected");
			free(s);
		}
}

/*
 * The field table every check case runs against; errors come in this
 * order, whatever the order of the document.
 */
static const struct jfield fields[] = {
	{ "email", JT_STRING, JF_REQUIRED, LIM_EMAIL, valid_email,
	  "invalid_email", 0, 0 },
	{ "name", JT_STRING, 0, 8, NULL, NULL, 0, 0 },
	{ "user", JT_STRING, 0, 0, valid_username, NULL, 0, 0 },
	{ "note", JT_STRING, JF_NULLABLE, 0, NULL, NULL, 0, 0 },
	{ "flag", JT_BOOL, 0, 0, NULL, NULL, 0, 0 },
	{ "n", JT_INT, 0, 0, NULL, NULL, 1, 100 },
	{ "big", JT_INT, 0, 0, NULL, NULL, INT64_MIN, INT64_MAX },
	{ "obj", JT_OBJECT, JF_NULLABLE, 0, NULL, NULL, 0, 0 },
	{ "arr", JT_ARRAY, 0, 0, NULL, NULL, 0, 0 },
	{ "want", JT_BOOL, JF_REQUIRED | JF_NULLABLE, 0, NULL, NULL, 0, 0 },
};

#define E	"\"email\":\"a@b.co\",\"want\":true"	/* the required ones */

static void
test_check(void)
{
	static const struct {
		int		 line;
		const char	*in;
		size_t		 nerr;
		struct jerr	 err[5];
	} t[] = {
		{ __LINE__, "{" E "}", 0, { { NULL, NULL } } },
		{ __LINE__, "{" E ",\"name\":\"12345678\",\"user\":\"bob\","
		  "\"note\":\"x\",\"flag\":false,\"n\":1,\"big\":-5,"
		  "\"obj\":{},\"arr\":[]}", 0, { { NULL, NULL } } },
		{ __LINE__, "{" E ",\"n\":100,\"obj\":{\"x\":[1]},"
		  "\"arr\":[1,\"a\",null]}", 0, { { NULL, NULL } } },
		{ __LINE__, "{" E ",\"extra\":1}", 0, { { NULL, NULL } } },
		/* required */
		{ __LINE__, "{\"want\":false}", 1,
		  { { "email", "required" } } },
		{ __LINE__, "{}", 2,
		  { { "email", "required" }, { "want", "required" } } },
		{ __LINE__, "{\"email\":\"a@b.co\",\"want\":null}", 0,
		  { { NULL, NULL } } },
		/* wrong types */
		{ __LINE__, "{\"email\":5,\"want\":true}", 1,
		  { { "email", "invalid_type" } } },
		{ __LINE__, "{" E ",\"name\":[\"x\"]}", 1,
		  { { "name", "invalid_type" } } },
		{ __LINE__, "{" E ",\"name\":{}}", 1,
		  { { "name", "invalid_type" } } },
		{ __LINE__, "{" E ",\"name\":true}", 1,
		  { { "name", "invalid_type" } } },
		{ __LINE__, "{" E ",\"name\":1.5}", 1,
		  { { "name", "invalid_type" } } },
		{ __LINE__, "{" E ",\"name\":null}", 1,
		  { { "name", "invalid_type" } } },
		{ __LINE__, "{\"email\":null,\"want\":true}", 1,
		  { { "email", "invalid_type" } } },
		{ __LINE__, "{" E ",\"note\":null}", 0, { { NULL, NULL } } },
		{ __LINE__, "{" E ",\"note\":1}", 1,
		  { { "note", "invalid_type" } } },
		{ __LINE__, "{" E ",\"flag\":\"true\"}", 1,
		  { { "flag", "invalid_type" } } },
		{ __LINE__, "{" E ",\"flag\":1}", 1,
		  { { "flag", "invalid_type" } } },
		{ __LINE__, "{" E ",\"flag\":null}", 1,
		  { { "flag", "invalid_type" } } },
		{ __LINE__, "{" E ",\"flag\":true}", 0, { { NULL, NULL } } },
		{ __LINE__, "{" E ",\"obj\":[]}", 1,
		  { { "obj", "invalid_type" } } },
		{ __LINE__, "{" E ",\"obj\":\"{}\"}", 1,
		  { { "obj", "invalid_type" } } },
		{ __LINE__, "{" E ",\"obj\":null}", 0, { { NULL, NULL } } },
		{ __LINE__, "{" E ",\"arr\":{}}", 1,
		  { { "arr", "invalid_type" } } },
		{ __LINE__, "{" E ",\"arr\":null}", 1,
		  { { "arr", "invalid_type" } } },
		{ __LINE__, "{\"email\":\"a@b.co\",\"want\":\"yes\"}", 1,
		  { { "want", "invalid_type" } } },
		/* too long: bytes, not characters */
		{ __LINE__, "{" E ",\"name\":\"123456789\"}", 1,
		  { { "name", "too_long" } } },
		{ __LINE__, "{" E ",\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\"}", 0, { { NULL, NULL } } },
		{ __LINE__, "{" E ",\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\"}", 1, { { "name", "too_long" } } },
		/* validators: the field's own code, or invalid_format */
		{ __LINE__, "{\"email\":\"nope\",\"want\":true}", 1,
		  { { "email", "invalid_email" } } },
		{ __LINE__, "{\"email\":\"\",\"want\":true}", 1,
		  { { "email", "invalid_email" } } },
		{ __LINE__, "{" E ",\"user\":\"_x\"}", 1,
		  { { "user", "invalid_format" } } },
		{ __LINE__, "{" E ",\"user\":\"ab\"}", 1,
		  { { "user", "invalid_format" } } },
		/* integers */
		{ __LINE__, "{" E ",\"n\":0}", 1, { { "n", "out_of_range" } } },
		{ __LINE__, "{" E ",\"n\":-1}", 1,
		  { { "n", "out_of_range" } } },
		{ __LINE__, "{" E ",\"n\":101}", 1,
		  { { "n", "out_of_range" } } },
		{ __LINE__, "{" E ",\"n\":4294967297}", 1,
		  { { "n", "out_of_range" } } },
		{ __LINE__, "{" E ",\"n\":\"5\"}", 1,
		  { { "n", "invalid_type" } } },
		{ __LINE__, "{" E ",\"n\":5.0}", 1,
		  { { "n", "invalid_type" } } },
		{ __LINE__, "{" E ",\"n\":1e2}", 1,
		  { { "n", "invalid_type" } } },
		{ __LINE__, "{" E ",\"n\":true}", 1,
		  { { "n", "invalid_type" } } },
		{ __LINE__, "{" E ",\"n\":null}", 1,
		  { { "n", "invalid_type" } } },
		{ __LINE__, "{" E ",\"big\":9223372036854775806}", 0,
		  { { NULL, NULL } } },
		{ __LINE__, "{" E ",\"big\":-9223372036854775807}", 0,
		  { { NULL, NULL } } },
		{ __LINE__, "{" E ",\"big\":9223372036854775808}", 1,
		  { { "big", "out_of_range" } } },
		{ __LINE__, "{" E ",\"big\":18446744073709551615}", 1,
		  { { "big", "out_of_range" } } },
		{ __LINE__, "{" E ",\"big\":99999999999999999999999}", 1,
		  { { "big", "out_of_range" } } },
		{ __LINE__, "{" E ",\"big\":-9223372036854775809}", 1,
		  { { "big", "out_of_range" } } },
		{ __LINE__, "{" E ",\"big\":-99999999999999999999999}", 1,
		  { { "big", "out_of_range" } } },
		/* several: table order, not document order */
		{ __LINE__, "{\"arr\":{},\"n\":0,\"flag\":\"x\",\"email\":1,"
		  "\"want\":true}", 4,
		  { { "email", "invalid_type" }, { "flag", "invalid_type" },
		    { "n", "out_of_range" }, { "arr", "invalid_type" } } },
		{ __LINE__, "{\"big\":1.5,\"user\":\"-\",\"name\":[]}", 5,
		  { { "email", "required" }, { "name", "invalid_type" },
		    { "user", "invalid_format" }, { "big", "invalid_type" },
		    { "want", "required" } } },
		/* not an object: one error on field "" */
		{ __LINE__, "[]", 1, { { "", "invalid_type" } } },
		{ __LINE__, "[{" E "}]", 1, { { "", "invalid_type" } } },
		{ __LINE__, "\"x\"", 1, { { "", "invalid_type" } } },
	};
	struct json_object	*o;
	struct jerr		 errs[MAXERR];
	size_t			 i, j, n;
	int			 good;

	for (i = 0; i < nitems(t); i++) {
		if (json_parse_strict(t[i].in, strlen(t[i].in), &o) !=
		    USHER_OK) {
			ok_at(t[i].line, 0, "json_check case %zu: parse", i);
			continue;
		}
		memset(errs, 0, sizeof(errs));
		n = json_check(o, fields, nitems(fields), errs, MAXERR);
		good = n == t[i].nerr;
		for (j = 0; good && j < n; j++)
			good = errs[j].field != NULL && errs[j].code != NULL &&
			    strcmp(errs[j].field, t[i].err[j].field) == 0 &&
			    strcmp(errs[j].code, t[i].err[j].code) == 0;
		for (j = n; good && j < MAXERR; j++)
			good = errs[j].field == NULL && errs[j].code == NULL;
		if (!ok_at(t[i].line, good, "json_check case %zu: %zu error(s)",
		    i, t[i].nerr))
			for (j = 0; j < n && j < MAXERR; j++)
				diag("got %s: %s", errs[j].field ?
				    errs[j].field : "(null)", errs[j].code ?
				    errs[j].code : "(null)");
		json_object_put(o);
	}
}

/* 1e400: refused by the parser, or not an integer. */
static void
test_huge_double(void)
{
	static const char	 in[] = "{" E ",\"n\":1e400}";
	struct json_object	*o;
	struct jerr		 errs[MAXERR];
	enum usher_err		 rc;

	rc = json_parse_strict(in, strlen(in), &o);
	if (rc != USHER_OK) {
		ok(rc == USHER_ERR_INVALID_JSON && o == NULL,
		    "1e400 rejected by the parser");
		return;
	}
	ok(json_check(o, fields, nitems(fields), errs, MAXERR) == 1 &&
	    strcmp(errs[0].field, "n") == 0 &&
	    strcmp(errs[0].code, "invalid_type") == 0,
	    "1e400 is invalid_type for an integer");
	json_object_put(o);
}

/* The count is the total; only max entries are written. */
static void
test_check_max(void)
{
	static const char	 in[] = "{\"arr\":{},\"n\":0,\"flag\":\"x\","
	    "\"email\":1,\"want\":true}";
	struct json_object	*o, *a;
	struct jerr		 errs[4], none = { "sentinel", "sentinel" };

	if (json_parse_strict(in, strlen(in), &o) != USHER_OK)
		bail_out("parse");
	errs[2] = errs[3] = none;
	ok(json_check(o, fields, nitems(fields), errs, 2) == 4 &&
	    strcmp(errs[0].field, "email") == 0 &&
	    strcmp(errs[1].field, "flag") == 0 &&
	    errs[2].field == none.field && errs[3].field == none.field,
	    "max 2 of 4 errors: returns 4, fills 2");
	errs[0] = none;
	ok(json_check(o, fields, nitems(fields), errs, 0) == 4 &&
	    errs[0].field == none.field, "max 0: counts, writes nothing");
	ok(json_check(o, fields, 0, errs, 4) == 0, "empty table: no errors");
	json_object_put(o);

	if (json_parse_strict("[1]", 3, &a) != USHER_OK)
		bail_out("parse");
	errs[0] = none;
	ok(json_check(a, fields, nitems(fields), errs, 0) == 1 &&
	    errs[0].field == none.field, "array, max 0: 1, nothing written");
	json_object_put(a);
}

static void
test_getters(void)
{
	static const char	 in[] = "{\"s\":\"x\\u00e9\",\"z\":null,"
	    "\"t\":true,\"f\":false,\"i\":42,\"m\":-9007199254740993,"
	    "\"d\":1.5,\"o\":{\"s\":\"inner\"},\"e\":\"\"}";
	struct json_object	*o;

	if (json_parse_strict(in, strlen(in), &o) != USHER_OK)
		bail_out("parse");

	ok(json_str(o, "s") != NULL && strcmp(json_str(o, "s"), "x\xc3\xa9")
	    == 0, "json_str decodes escapes");
	ok(json_str(o, "e") != NULL && *json_str(o, "e") == '\0',
	    "json_str of \"\" is \"\"");
	ok(json_str(o, "nope") == NULL, "json_str: absent is NULL");
	ok(json_str(o, "z") == NULL, "json_str: null is NULL");
	ok(json_str(o, "i") == NULL && json_str(o, "t") == NULL &&
	    json_str(o, "o") == NULL, "json_str: non-strings are NULL");
	ok(json_str(NULL, "s") == NULL, "json_str: NULL object");

	ok(json_has(o, "s") && json_has(o, "z") && json_has(o, "f"),
	    "json_has: present, null included");
	ok(!json_has(o, "nope") && !json_has(NULL, "s"),
	    "json_has: absent, NULL object");
	ok(!json_has(o, "inner") && !json_has(o, "o.s"),
	    "json_has: only the top level");

	ok(json_is_null(o, "z"), "json_is_null: null");
	ok(!json_is_null(o, "s") && !json_is_null(o, "f") &&
	    !json_is_null(o, "nope") && !json_is_null(NULL, "z"),
	    "json_is_null: value, false, absent, NULL object");

	ok(json_flag(o, "t") == 1 && json_flag(o, "f") == 0,
	    "json_flag: true and false");
	ok(json_flag(o, "s") == 0 && json_flag(o, "i") == 0 &&
	    json_flag(o, "z") == 0 && json_flag(o, "nope") == 0 &&
	    json_flag(NULL, "t") == 0, "json_flag: non-booleans are 0");

	ok(json_int64(o, "i") == 42, "json_int64: 42");
	ok(json_int64(o, "m") == -9007199254740993LL,
	    "json_int64: beyond a double's precision");
	ok(json_int64(o, "d") == 0 && json_int64(o, "s") == 0 &&
	    json_int64(o, "t") == 0 && json_int64(o, "z") == 0 &&
	    json_int64(o, "nope") == 0 && json_int64(NULL, "i") == 0,
	    "json_int64: non-integers are 0");
	json_object_put(o);
}

int
main(void)
{
	test_strict();
	test_length();
	test_surrogate_escape();
	test_depth();
	test_check();
	test_huge_double();
	test_check_max();
	test_getters();
	return done_testing();
}
