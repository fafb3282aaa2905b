/* t_mime.c -- unit tests of lib/mime.c: addresses, RFC 2047 words, messages */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "limits.h"
#include "mime.h"
#include "tap.h"
#include "valid.h"

#define UK_SUBJECT	"Підтвердіть адресу електронної пошти"
#define RU_SUBJECT	"Подтвердите адрес электронной почты для вашей " \
			"учётной записи на сайте"
#define EMOJI_SUBJECT	"\xf0\x9f\x98\x80\xf0\x9f\x98\x80 ok " \
			"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80" \
			"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80" \
			"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80" \
			"\xf0\x9f\x98\x80\xf0\x9f\x98\x80"

/* One header of a parsed message: its name and unfolded value. */
struct hdr {
	char	 name[64];
	char	*value;
};

struct parsed {
	struct hdr	 h[32];
	size_t		 n;
	const char	*body;		/* after the empty line */
	size_t		 bodylen;
	int		 crlf;		/* every header line ends in CRLF */
	size_t		 longest;	/* longest header line, without CRLF */
};

static void *
xalloc(size_t n)
{
	void	*p;

	p = malloc(n == 0 ? 1 : n);
	if (p == NULL)
		bail_out("out of memory");
	return p;
}

/* Standard base64 of len bytes into a new buffer, or NULL. */
static unsigned char *
b64_decode(const char *s, size_t len, size_t *outlen)
{
	unsigned char	*out;
	int		 n;

	if (len % 4 != 0)
		return NULL;
	out = xalloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as bytes */
	if (len > 0 && s[len - 1] == '=')
		n--;
	if (len > 1 && s[len - 2] == '=')
		n--;
	*outlen = (size_t)n;
	out[n] = '\0';
	return out;
}

/*
 * The text of a run of RFC 2047 words split by spaces and CRLF, each word
 * checked: at most 75 characters, "=?UTF-8?B?", whole UTF-8 sequences.
 * A new string, or NULL if any word is bad.
 */
static char *
decode_words(const char *s)
{
	char		*out;
	unsigned char	*dec;
	size_t		 o = 0, n, declen;

	out = xalloc(strlen(s) + 1);
	while (*s != '\0') {
		if (*s == ' ' || *s == '\r' || *s == '\n') {
			s++;
			continue;
		}
		n = strcspn(s, " \r\n");
		if (n > 75 || n < 12 || strncmp(s, "=?UTF-8?B?", 10) != 0 ||
		    strncmp(s + n - 2, "?=", 2) != 0)
			goto bad;
		dec = b64_decode(s + 10, n - 12, &declen);
		if (dec == NULL || !valid_utf8((const char *)dec, declen)) {
			free(dec);
			goto bad;
		}
		memcpy(out + o, dec, declen);
		o += declen;
		free(dec);
		s += n;
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static void
parsed_free(struct parsed *p)
{
	size_t	i;

	for (i = 0; i < p->n; i++)
		free(p->h[i].value);
	memset(p, 0, sizeof(*p));
}

/* Append [s, s + n) to the value of the last header (unfolding). */
static void
hdr_append(struct hdr *h, const char *s, size_t n)
{
	size_t	len = h->value != NULL ? strlen(h->value) : 0;

	h->value = realloc(h->value, len + n + 1);
	if (h->value == NULL)
		bail_out("out of memory");
	memcpy(h->value + len, s, n);
	h->value[len + n] = '\0';
}

/* One header line [s, s + n) without its CRLF; 0 if malformed. */
static int
parse_line(struct parsed *p, const char *s, size_t n)
{
	const char	*colon;
	struct hdr	*h;

	if (n > p->longest)
		p->longest = n;
	if (memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL)
		p->crlf = 0;
	if (*s == ' ' || *s == '\t') {
		if (p->n == 0)
			return 0;
		hdr_append(&p->h[p->n - 1], s, n);
		return 1;
	}
	colon = memchr(s, ':', n);
	if (colon == NULL || colon - s >= 64 || p->n == nitems(p->h))
		return 0;
	h = &p->h[p->n++];
	memcpy(h->name, s, (size_t)(colon - s));
	h->name[colon - s] = '\0';
	h->value = NULL;
	n -= (size_t)(colon - s) + 1;
	s = colon + 1;
	if (n > 0 && *s == ' ') {
		s++;
		n--;
	}
	hdr_append(h, s, n);
	return 1;
}

/* Split msg into headers and body; 0 if there is no empty line. */
static int
parse(const char *msg, size_t len, struct parsed *p)
{
	const char	*s = msg, *end, *sep;

	memset(p, 0, sizeof(*p));
	p->crlf = 1;
	sep = memmem(msg, len, "\r\n\r\n", 4);
	if (sep == NULL)
		return 0;
	while (s < sep + 2) {
		end = memmem(s, (size_t)(sep + 2 - s), "\r\n", 2);
		if (end == NULL || !parse_line(p, s, (size_t)(end - s)))
			return 0;
		s = end + 2;
	}
	p->body = sep + 4;
	p->bodylen = len - (size_t)(p->body - msg);
	return 1;
}

static size_t
count_hdr(const struct parsed *p, const char *name)
{
	size_t	i, n = 0;

	for (i = 0; i < p->n; i++)
		if (strcasecmp(p->h[i].name, name) == 0)
			n++;
	return n;
}

static const char *
get_hdr(const struct parsed *p, const char *name)
{
	size_t	i;

	for (i = 0; i < p->n; i++)
		if (strcasecmp(p->h[i].name, name) == 0)
			return p->h[i].value;
	return "";
}

static size_t
count_str(const char *s, size_t len, const char *needle)
{
	const char	*end = s + len;
	size_t		 n = 0;

	for (;;) {
		s = memmem(s, (size_t)(end - s), needle, strlen(needle));
		if (s == NULL)
			return n;
		n++;
		s++;
	}
}

/*
 * The decoded base64 of a part body: lines of at most 76 characters,
 * each ending in CRLF. A new string, or NULL if malformed.
 */
static char *
decode_body(const char *s, size_t len)
{
	char		*b64, *out;
	const char	*end = s + len, *eol;
	size_t		 o = 0, outlen;

	b64 = xalloc(len + 1);
	while (s < end) {
		eol = memmem(s, (size_t)(end - s), "\r\n", 2);
		if (eol == NULL || eol - s > 76) {
			free(b64);
			return NULL;
		}
		memcpy(b64 + o, s, (size_t)(eol - s));
		o += (size_t)(eol - s);
		s = eol + 2;
	}
	out = (char *)b64_decode(b64, o, &outlen);
	free(b64);
	if (out != NULL && strlen(out) != outlen) {
		free(out);
		return NULL;
	}
	return out;
}

static struct mime_msg
base_msg(void)
{
	struct mime_msg	m;

	memset(&m, 0, sizeof(m));
	m.from = "Usher <noreply@example.org>";
	m.reply_to = "Support <support@example.org>";
	m.to = "jane@example.net";
	m.to_name = "Jane Doe";
	m.subject = "Confirm your email address";
	m.text = "Hello,\nconfirm: https://example.org/v?t=abc\n";
	m.html = "<p>Hello,</p>\r\n<p><a href=\"x\">confirm</a></p>\n";
	m.message_id = "<0b5e1f6c-6a4f-4d1e-9d6c-2b1f1c0a9e01@example.org>";
	m.date = 0;
	return m;
}

/* Build m and parse it into p; 0 (with a failed test) if either fails. */
static int
build_parse(int line, const struct mime_msg *m, char **out,
    struct parsed *p)
{
	size_t		len;
	enum usher_err	rc;

	memset(p, 0, sizeof(*p));
	rc = mime_build(m, out, &len);
	if (!ok_at(line, rc == USHER_OK && *out != NULL, "mime_build: %d",
	    (int)rc))
		return 0;
	if (!ok_at(line, strlen(*out) == len, "no NUL in the message"))
		return 0;
	return ok_at(line, parse(*out, len, p), "message parses");
}

/* Addresses at and past the limits, for test_valid_addr(). */
static char	a254[256], a255[256], l64[80], l65[80];

static void
make_long(void)
{
	/* 64 + "@" + 189 = 254 */
	memset(l64, 'l', 64);
	memcpy(l64 + 64, "@b.co", 6);
	memset(l65, 'l', 65);
	memcpy(l65 + 65, "@b.co", 6);
	memset(a254, 'd', 254);
	memset(a254, 'l', 64);
	a254[64] = '@';
	a254[254] = '\0';
	memcpy(a255, a254, 254);
	memcpy(a255 + 254, "d", 2);
	if (strlen(a254) != 254 || strlen(a255) != 255)
		bail_out("make_long: address lengths");
}

static void
test_valid_addr(void)
{
	static const struct {
		int		 line;
		const char	*in;
		int		 want;
	} t[] = {
		{ __LINE__, "a@b", 1 },
		{ __LINE__, "user@example.org", 1 },
		{ __LINE__, "first.last+tag@sub.example.org", 1 },
		{ __LINE__, "!#$%&'*+/=?^_`{|}~-@example.org", 1 },
		{ __LINE__, a254, 1 },
		{ __LINE__, l64, 1 },

		{ __LINE__, NULL, 0 },
		{ __LINE__, "", 0 },
		{ __LINE__, "a@", 0 },
		{ __LINE__, "@b", 0 },
		{ __LINE__, "@bc", 0 },
		{ __LINE__, "ab@", 0 },
		{ __LINE__, "abc", 0 },			/* no @ */
		{ __LINE__, a255, 0 },
		{ __LINE__, l65, 0 },
		{ __LINE__, "a@b@c.d", 0 },		/* two @ */
		{ __LINE__, "<a@b.c>", 0 },
		{ __LINE__, "a<b@c.d", 0 },
		{ __LINE__, "a>b@c.d", 0 },
		{ __LINE__, "a@c.d>", 0 },
		{ __LINE__, "a,b@c.d", 0 },
		{ __LINE__, "a;b@c.d", 0 },
		{ __LINE__, "a:b@c.d", 0 },
		{ __LINE__, "\"a\"@c.d", 0 },
		{ __LINE__, "a(b)@c.d", 0 },
		{ __LINE__, "a\\b@c.d", 0 },
		{ __LINE__, "a@[192.0.2.1]", 0 },
		{ __LINE__, "a b@c.d", 0 },		/* space */
		{ __LINE__, "a@c.d ", 0 },
		{ __LINE__, "a\t@c.d", 0 },
		{ __LINE__, "a\r@c.d", 0 },		/* CR, LF */
		{ __LINE__, "a@c.d\n", 0 },
		{ __LINE__, "a@c.d\r\nBcc: x@y.z", 0 },
		{ __LINE__, "a\x01@c.d", 0 },
		{ __LINE__, "a\x7f@c.d", 0 },
		{ __LINE__, "\xc3\xa9@c.d", 0 },	/* non-ASCII */
		{ __LINE__, "a@\xd0\xb1.\xd1\x80\xd1\x84", 0 },
	};
	size_t	i;

	for (i = 0; i < nitems(t); i++)
		ok_at(t[i].line, mime_valid_addr(t[i].in) == t[i].want,
		    "mime_valid_addr case %zu: %s", i, t[i].want ?
		    "accepted" : "refused");
}

static void
test_encode_plain(void)
{
	static const struct {
		int		 line;
		const char	*in;
		int		 phrase;
		const char	*want;
	} t[] = {
		{ __LINE__, "Confirm your email address", 0,
		  "Confirm your email address" },
		{ __LINE__, "", 0, "" },
		{ __LINE__, "Jane Doe", 1, "Jane Doe" },
		{ __LINE__, "Jane Q. Public", 0, "Jane Q. Public" },
		{ __LINE__, "Jane Q. Public", 1, "\"Jane Q. Public\"" },
		{ __LINE__, "A \"B\" <C>", 1, "\"A \\\"B\\\" <C>\"" },
		{ __LINE__, "a\\b", 1, "\"a\\\\b\"" },
		{ __LINE__, "Doe, Jane", 1, "\"Doe, Jane\"" },
		{ __LINE__, "x@y.z", 1, "\"x@y.z\"" },
		{ __LINE__, " ", 1, "\" \"" },
		{ __LINE__, "Your code: 123456", 0, "Your code: 123456" },
	};
	size_t	 i;
	char	*s;

	for (i = 0; i < nitems(t); i++) {
		s = mime_encode_header(t[i].in, t[i].phrase);
		ok_at(t[i].line, s != NULL && strcmp(s, t[i].want) == 0,
		    "mime_encode_header case %zu: %s", i, s != NULL ? s :
		    "(null)");
		free(s);
	}
}

static void
test_encode_utf8(void)
{
	static const struct {
		int		 line;
		const char	*in;
	} t[] = {
		{ __LINE__, UK_SUBJECT },
		{ __LINE__, RU_SUBJECT },
		{ __LINE__, EMOJI_SUBJECT },
		{ __LINE__, "\xc3\xa9" },
		{ __LINE__, "caf\xc3\xa9 \xe2\x82\xac 5" },
		/* ASCII, but read as an encoded word if left as is */
		{ __LINE__, "=?UTF-8?B?QQ==?=" },
	};
	size_t	 i, len;
	char	*s, *dec;
	int	 phrase;

	ok(strlen(RU_SUBJECT) > 75, "the Russian subject is over 75 bytes");
	for (i = 0; i < nitems(t); i++) {
		for (phrase = 0; phrase <= 1; phrase++) {
			s = mime_encode_header(t[i].in, phrase);
			len = s != NULL ? strlen(s) : 0;
			/* only CRLF SP between words */
			ok_at(t[i].line, s != NULL && count_str(s, len, "\r") ==
			    count_str(s, len, "\r\n ") && count_str(s, len,
			    "\n") == count_str(s, len, "\r\n "),
			    "case %zu/%d: words folded by CRLF SP", i, phrase);
			dec = s != NULL ? decode_words(s) : NULL;
			ok_at(t[i].line, dec != NULL && strcmp(dec, t[i].in) ==
			    0, "case %zu/%d: words decode to the original",
			    i, phrase);
			free(dec);
			free(s);
		}
	}
}

static void
test_encode_refused(void)
{
	static const char *const t[] = {
		"a\rb", "a\nb", "a\r\nb", "\r\n", "\x01", "a\tb", "a\x1f",
		"a\x7f", "\xc3\x28", "\xc0\xaf", "\xed\xa0\x80", "a\xff",
		"\xe2\x82", "\xd0\x9f\r\n\xd0\x9f",
	};
	size_t	 i;
	char	*s, *p;
	int	 phrase;

	for (i = 0; i < nitems(t); i++)
		for (phrase = 0; phrase <= 1; phrase++) {
			s = mime_encode_header(t[i], phrase);
			ok(s == NULL, "mime_encode_header refuses case %zu/%d",
			    i, phrase);
			free(s);
		}
	ok(mime_encode_header(NULL, 0) == NULL, "NULL refused");

	p = xalloc(MIME_MAX + 1);
	memset(p, 'a', MIME_MAX);
	p[MIME_MAX] = '\0';
	s = mime_encode_header(p, 0);
	ok(s == NULL, "text encoding past MIME_MAX refused");
	free(s);
	free(p);
}

enum field {
	F_FROM, F_REPLY_TO, F_TO, F_TO_NAME, F_SUBJECT, F_MSGID, F_TEXT, F_HTML
};

static const char *const field_names[] = {
	"from", "reply_to", "to", "to_name", "subject", "message_id", "text",
	"html"
};

static void
set_field(struct mime_msg *m, enum field f, const char *v)
{
	const char	**p[] = {
		&m->from, &m->reply_to, &m->to, &m->to_name, &m->subject,
		&m->message_id, &m->text, &m->html
	};

	*p[f] = v;
}

/* Build m with field f set to v, expecting want and nothing built. */
static void
build_fails(int line, enum field f, const char *v, enum usher_err want)
{
	struct mime_msg	 m = base_msg();
	char		*out = (char *)"sentinel";
	size_t		 len = 42;
	enum usher_err	 rc;

	set_field(&m, f, v);
	rc = mime_build(&m, &out, &len);
	ok_at(line, rc == want && out == NULL && len == 0,
	    "%s refused: %d", field_names[f], (int)rc);
	free(out);
}

static void
test_build_refused(void)
{
	/* unsafe in any header */
	static const char *const bad[] = {
		"a\rb", "a\nb", "a\r\nb", "\x01", "a\tb", "\xc3\x28",
		"\xc0\xaf", "\xed\xa0\x80",
	};
	static const enum field hdrs[] = {
		F_FROM, F_REPLY_TO, F_TO, F_TO_NAME, F_SUBJECT, F_MSGID
	};
	static const struct {
		int		 line;
		enum field	 f;
		const char	*v;
	} t[] = {
		{ __LINE__, F_TO_NAME, "Eve\r\nBcc: x@y" },
		{ __LINE__, F_TO_NAME, "Eve\nBcc: x@y" },
		{ __LINE__, F_SUBJECT, "Hi\r\nBcc: x@y" },
		{ __LINE__, F_SUBJECT, NULL },
		{ __LINE__, F_TO, "eve@example.org\r\nBcc: x@y" },
		{ __LINE__, F_TO, "Eve <eve@example.org>" },
		{ __LINE__, F_TO, "a@b.c, x@y.z" },
		{ __LINE__, F_TO, "" },
		{ __LINE__, F_TO, NULL },
		{ __LINE__, F_FROM, NULL },
		{ __LINE__, F_FROM, "Usher <bad>" },
		{ __LINE__, F_FROM, "Usher <a@b.c" },
		{ __LINE__, F_FROM, "Usher a@b.c" },
		{ __LINE__, F_FROM, "Usher <a@b.c> x" },
		{ __LINE__, F_FROM, "Usher\r\n <a@b.c>" },
		{ __LINE__, F_FROM, "Usher <a@b.c\r\nBcc: x@y>" },
		{ __LINE__, F_REPLY_TO, "S <s@e.org>\r\nBcc: x@y" },
		{ __LINE__, F_MSGID, NULL },
		{ __LINE__, F_MSGID, "a@b.c" },
		{ __LINE__, F_MSGID, "<a@b.c" },
		{ __LINE__, F_MSGID, "<ab.c>" },
		{ __LINE__, F_MSGID, "<a b@c>" },
		{ __LINE__, F_MSGID, "<a@b.c>\r\nBcc: x@y" },
		{ __LINE__, F_MSGID, "<a@b.c><d@e.f>" },
		{ __LINE__, F_TEXT, NULL },
		{ __LINE__, F_TEXT, "ok \xc3\x28" },
		{ __LINE__, F_TEXT, "\xed\xa0\x80" },
		{ __LINE__, F_HTML, "<p>\xc0\xaf</p>" },
	};
	size_t	i, j;

	for (i = 0; i < nitems(hdrs); i++)
		for (j = 0; j < nitems(bad); j++)
			build_fails(__LINE__, hdrs[i], bad[j],
			    USHER_ERR_INVALID);
	for (i = 0; i < nitems(t); i++)
		build_fails(t[i].line, t[i].f, t[i].v, USHER_ERR_INVALID);
}

/* A NUL ends a C string: what follows it never reaches the message. */
static void
test_nul(void)
{
	static const char	name[] = "Eve\0\r\nBcc: x@y";
	static const char	subj[] = "Hi\0\r\nBcc: x@y";
	struct mime_msg		 m = base_msg();
	struct parsed		 p;
	char			*out = NULL;

	ok(sizeof(name) > strlen(name) + 1, "the name holds a NUL");
	m.to_name = name;
	m.subject = subj;
	if (build_parse(__LINE__, &m, &out, &p)) {
		ok(count_hdr(&p, "Bcc") == 0 && strstr(out, "Bcc") == NULL,
		    "nothing after the NUL is in the message");
		ok(strcmp(get_hdr(&p, "To"), "Eve <jane@example.net>") == 0,
		    "To: %s", get_hdr(&p, "To"));
	}
	parsed_free(&p);
	free(out);
}

/* Check part i (0-based) of the multipart body p against want. */
static void
check_part(const char *body, size_t len, const char *bound, int i,
    const char *type, const char *want)
{
	char		 delim[80], *dec;
	const char	*s, *e;
	struct parsed	 p;

	snprintf(delim, sizeof(delim), "--%s\r\n", bound);
	s = body;
	for (; i >= 0 && s != NULL; i--) {
		s = memmem(s, len - (size_t)(s - body), delim, strlen(delim));
		if (s != NULL)
			s += strlen(delim);
	}
	if (!ok(s != NULL, "part %s found", type))
		return;
	snprintf(delim, sizeof(delim), "--%s", bound);
	e = memmem(s, len - (size_t)(s - body), delim, strlen(delim));
	if (!ok(e != NULL && parse(s, (size_t)(e - s), &p), "part %s parses",
	    type))
		return;
	ok(strcmp(get_hdr(&p, "Content-Type"), type) == 0 &&
	    strcmp(get_hdr(&p, "Content-Transfer-Encoding"), "base64") == 0,
	    "part headers: %s", get_hdr(&p, "Content-Type"));
	dec = decode_body(p.body, p.bodylen);
	ok(dec != NULL && strcmp(dec, want) == 0, "part %s decodes", type);
	free(dec);
	parsed_free(&p);
}

/* The headers of base_msg(), in order, with their unfolded values. */
static void
check_headers(const struct parsed *p)
{
	static const struct {
		const char	*name;
		const char	*want;	/* NULL: checked elsewhere */
	} t[] = {
		{ "Date", "Thu, 01 Jan 1970 00:00:00 +0000" },
		{ "From", "Usher <noreply@example.org>" },
		{ "Reply-To", "Support <support@example.org>" },
		{ "To", "Jane Doe <jane@example.net>" },
		{ "Subject", "Confirm your email address" },
		{ "Message-ID",
		  "<0b5e1f6c-6a4f-4d1e-9d6c-2b1f1c0a9e01@example.org>" },
		{ "MIME-Version", "1.0" },
		{ "Auto-Submitted", "auto-generated" },
		{ "Content-Type", NULL },
	};
	size_t	i;

	ok(p->crlf, "every header line ends in CRLF");
	ok(p->longest <= 78, "header lines within 78: %zu", p->longest);
	ok(p->n == nitems(t), "%zu headers", p->n);
	for (i = 0; i < nitems(t) && i < p->n; i++)
		ok(strcmp(p->h[i].name, t[i].name) == 0 && (t[i].want == NULL ||
		    strcmp(p->h[i].value, t[i].want) == 0), "%s: %s",
		    t[i].name, p->h[i].value);
	ok(count_hdr(p, "To") == 1 && count_hdr(p, "Subject") == 1,
	    "one To, one Subject");
}

/* A multipart/alternative body: random boundary, text then HTML. */
static void
check_multipart(const struct parsed *p)
{
	const char	*ct, *q;
	char		 bound[80], last[96];
	size_t		 blen, n;

	ct = get_hdr(p, "Content-Type");
	q = strstr(ct, "boundary=\"");
	if (!ok(strncmp(ct, "multipart/alternative;", 22) == 0 && q != NULL,
	    "Content-Type: %s", ct))
		return;
	q += 10;
	blen = strcspn(q, "\"");
	if (!ok(blen == 8 + 32 && strncmp(q, "=_usher_", 8) == 0 &&
	    strspn(q + 8, "0123456789abcdef") == 32 && q[blen] == '"',
	    "boundary is =_usher_ and 32 hex digits"))
		return;
	snprintf(bound, sizeof(bound), "%.*s", (int)blen, q);
	snprintf(last, sizeof(last), "--%s--\r\n", bound);
	n = strlen(last);
	ok(count_str(p->body, p->bodylen, bound) == 3, "boundary thrice");
	ok(strncmp(p->body, last, blen + 2) == 0, "body opens on it");
	ok(p->bodylen > n && memcmp(p->body + p->bodylen - n, last, n) == 0,
	    "body closes on the last delimiter");
	check_part(p->body, p->bodylen, bound, 0, "text/plain; charset=utf-8",
	    "Hello,\r\nconfirm: https://example.org/v?t=abc\r\n");
	check_part(p->body, p->bodylen, bound, 1, "text/html; charset=utf-8",
	    "<p>Hello,</p>\r\n<p><a href=\"x\">confirm</a></p>\r\n");
}

static void
test_message(void)
{
	struct mime_msg	 m = base_msg();
	struct parsed	 p;
	char		*out = NULL;

	if (build_parse(__LINE__, &m, &out, &p)) {
		check_headers(&p);
		check_multipart(&p);
	}
	parsed_free(&p);
	free(out);
}

/* Two messages get different boundaries. */
static void
test_boundary_random(void)
{
	struct mime_msg	 m = base_msg();
	char		*a = NULL, *b = NULL;
	size_t		 alen, blen;

	ok(mime_build(&m, &a, &alen) == USHER_OK &&
	    mime_build(&m, &b, &blen) == USHER_OK && strcmp(a, b) != 0,
	    "boundaries differ between builds");
	free(a);
	free(b);
}

static void
test_text_only(void)
{
	static const struct {
		int		 line;
		const char	*in;
		const char	*want;
	} t[] = {
		{ __LINE__, "", "" },
		{ __LINE__, "a", "a" },
		{ __LINE__, "a\nb", "a\r\nb" },
		{ __LINE__, "a\r\nb", "a\r\nb" },
		{ __LINE__, "a\rb", "a\r\nb" },
		{ __LINE__, "a\r\r\nb", "a\r\n\r\nb" },
		{ __LINE__, "a\n\rb", "a\r\n\r\nb" },
		{ __LINE__, "\n\n", "\r\n\r\n" },
		{ __LINE__, "end\r", "end\r\n" },
		{ __LINE__, "Привіт\n", "Привіт\r\n" },
	};
	struct mime_msg	 m = base_msg();
	struct parsed	 p;
	char		*out, *dec;
	size_t		 i;

	m.html = NULL;
	for (i = 0; i < nitems(t); i++) {
		out = NULL;
		m.text = t[i].in;
		if (build_parse(t[i].line, &m, &out, &p)) {
			ok_at(t[i].line, strcmp(get_hdr(&p, "Content-Type"),
			    "text/plain; charset=utf-8") == 0 &&
			    strcmp(get_hdr(&p, "Content-Transfer-Encoding"),
			    "base64") == 0, "case %zu: single text part", i);
			dec = decode_body(p.body, p.bodylen);
			ok_at(t[i].line, dec != NULL && strcmp(dec, t[i].want)
			    == 0, "case %zu: body line ends are CRLF", i);
			free(dec);
		}
		parsed_free(&p);
		free(out);
	}
}

/* A body of many lines: base64 lines of 76, decoding to the original. */
static void
test_long_body(void)
{
	struct mime_msg	 m = base_msg();
	struct parsed	 p;
	char		*text, *out = NULL, *dec;
	size_t		 i;

	text = xalloc(3001);
	for (i = 0; i < 3000; i++)
		text[i] = i % 10 == 9 ? '\n' : (char)('a' + i % 26);
	text[3000] = '\0';
	m.html = NULL;
	m.text = text;
	if (build_parse(__LINE__, &m, &out, &p)) {
		dec = decode_body(p.body, p.bodylen);
		ok(count_str(p.body, p.bodylen, "\r\n") > 50 &&
		    memmem(p.body, p.bodylen, "\r\n", 2) == p.body + 76,
		    "base64 lines of 76");
		ok(dec != NULL && strlen(dec) == 3300 && count_str(dec,
		    strlen(dec), "\r\n") == 300 && strstr(dec, "\n\n") ==
		    NULL, "long body decodes with CRLF");
		free(dec);
	}
	parsed_free(&p);
	free(out);
	free(text);
}

static void
test_date(void)
{
	static const struct {
		int		 line;
		long long	 t;
		const char	*want;	/* NULL: refused */
	} t[] = {
		{ __LINE__, 0, "Thu, 01 Jan 1970 00:00:00 +0000" },
		{ __LINE__, 1700000000, "Tue, 14 Nov 2023 22:13:20 +0000" },
		{ __LINE__, 951782400, "Tue, 29 Feb 2000 00:00:00 +0000" },
		{ __LINE__, -1, "Wed, 31 Dec 1969 23:59:59 +0000" },
		{ __LINE__, -2208988800LL, "Mon, 01 Jan 1900 00:00:00 +0000" },
		{ __LINE__, 253402300799LL, "Fri, 31 Dec 9999 23:59:59 +0000" },
		{ __LINE__, -2208988801LL, NULL },
		{ __LINE__, 253402300800LL, NULL },
	};
	struct mime_msg	 m = base_msg();
	struct parsed	 p;
	char		*out;
	size_t		 i, len;

	for (i = 0; i < nitems(t); i++) {
		out = NULL;
		m.date = (time_t)t[i].t;
		if (t[i].want == NULL) {
			ok_at(t[i].line, mime_build(&m, &out, &len) ==
			    USHER_ERR_INVALID && out == NULL,
			    "date case %zu refused", i);
			continue;
		}
		if (build_parse(t[i].line, &m, &out, &p))
			ok_at(t[i].line, strcmp(get_hdr(&p, "Date"),
			    t[i].want) == 0, "Date: %s", get_hdr(&p, "Date"));
		parsed_free(&p);
		free(out);
	}
}

/* Display names: quoted, encoded or bare; always one To header. */
static void
test_to(void)
{
	static const struct {
		int		 line;
		const char	*name;
		const char	*want;	/* NULL: check encoded words */
	} t[] = {
		{ __LINE__, NULL, "jane@example.net" },
		{ __LINE__, "", "jane@example.net" },
		{ __LINE__, "Jane", "Jane <jane@example.net>" },
		{ __LINE__, "A \"B\" <C>",
		  "\"A \\\"B\\\" <C>\" <jane@example.net>" },
		{ __LINE__, "Eve Bcc: x@y",
		  "\"Eve Bcc: x@y\" <jane@example.net>" },
		{ __LINE__, "Eve, x@y", "\"Eve, x@y\" <jane@example.net>" },
		{ __LINE__, "Олена", NULL },
		{ __LINE__, "О\"<x@y>\", а", NULL },
		{ __LINE__, "=?UTF-8?B?RXZl?= <x@y>", NULL },
		{ __LINE__, RU_SUBJECT, NULL },
	};
	struct mime_msg	 m = base_msg();
	struct parsed	 p;
	char		*out, *dec, *addr;
	const char	*to;
	size_t		 i;

	for (i = 0; i < nitems(t); i++) {
		out = NULL;
		m.to_name = t[i].name;
		if (!build_parse(t[i].line, &m, &out, &p))
			goto next;
		to = get_hdr(&p, "To");
		ok_at(t[i].line, count_hdr(&p, "To") == 1 && count_hdr(&p,
		    "Bcc") == 0 && p.longest <= 78 && p.crlf,
		    "case %zu: one To, lines within 78", i);
		if (t[i].want != NULL) {
			ok_at(t[i].line, strcmp(to, t[i].want) == 0,
			    "case %zu: To: %s", i, to);
			goto next;
		}
		addr = strstr(to, " <jane@example.net>");
		ok_at(t[i].line, addr != NULL && strcmp(addr,
		    " <jane@example.net>") == 0, "case %zu: address last", i);
		if (addr != NULL)
			*addr = '\0';
		dec = decode_words(to);
		ok_at(t[i].line, dec != NULL && strcmp(dec, t[i].name) == 0,
		    "case %zu: name decodes", i);
		free(dec);
next:
		parsed_free(&p);
		free(out);
	}
}

static void
test_from(void)
{
	static const struct {
		int		 line;
		const char	*cfg;
		const char	*want;	/* NULL: check encoded words */
	} t[] = {
		{ __LINE__, "noreply@example.org", "noreply@example.org" },
		{ __LINE__, "<noreply@example.org>", "noreply@example.org" },
		{ __LINE__, "Usher <noreply@example.org>",
		  "Usher <noreply@example.org>" },
		{ __LINE__, "  Usher  <noreply@example.org>",
		  "Usher <noreply@example.org>" },
		{ __LINE__, "\"Usher\" <noreply@example.org>",
		  "Usher <noreply@example.org>" },
		{ __LINE__, "\"Usher, Inc.\" <noreply@example.org>",
		  "\"Usher, Inc.\" <noreply@example.org>" },
		{ __LINE__, "\"A \\\"B\\\"\" <noreply@example.org>",
		  "\"A \\\"B\\\"\" <noreply@example.org>" },
		{ __LINE__, "Usher Team <noreply@example.org>",
		  "Usher Team <noreply@example.org>" },
		{ __LINE__, "Ушер <noreply@example.org>", NULL },
	};
	struct mime_msg	 m = base_msg();
	struct parsed	 p;
	char		*out, *dec, *from;
	size_t		 i, len;

	for (i = 0; i < nitems(t); i++) {
		out = NULL;
		m.from = t[i].cfg;
		if (!build_parse(t[i].line, &m, &out, &p))
			goto next;
		from = strdup(get_hdr(&p, "From"));
		if (from == NULL)
			bail_out("out of memory");
		if (t[i].want != NULL) {
			ok_at(t[i].line, strcmp(from, t[i].want) == 0,
			    "case %zu: From: %s", i, from);
			free(from);
			goto next;
		}
		len = strlen(from);
		ok_at(t[i].line, len > 22 && strcmp(from + len - 22,
		    " <noreply@example.org>") == 0, "case %zu: address", i);
		if (len > 22)
			from[len - 22] = '\0';
		dec = decode_words(from);
		ok_at(t[i].line, dec != NULL && strcmp(dec, "Ушер") == 0,
		    "case %zu: name decodes", i);
		free(dec);
		free(from);
next:
		parsed_free(&p);
		free(out);
	}
}

static void
test_no_reply_to(void)
{
	struct mime_msg	 m = base_msg();
	struct parsed	 p;
	char		*out = NULL;

	m.reply_to = NULL;
	if (build_parse(__LINE__, &m, &out, &p))
		ok(count_hdr(&p, "Reply-To") == 0, "no Reply-To when NULL");
	parsed_free(&p);
	free(out);
}

/* Subjects: as they are, or in encoded words, always folded within 78. */
static void
test_subject(void)
{
	static const struct {
		int		 line;
		const char	*in;
		int		 encoded;
	} t[] = {
		{ __LINE__, "Confirm your email address", 0 },
		{ __LINE__, "A long ASCII subject that goes on and on, well "
		  "past the seventy-eight columns of a line, to be folded",
		  0 },
		{ __LINE__, "  two  spaces  ", 0 },
		{ __LINE__, UK_SUBJECT, 1 },
		{ __LINE__, RU_SUBJECT, 1 },
		{ __LINE__, EMOJI_SUBJECT, 1 },
		/* a run too long to fold */
		{ __LINE__, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1 },
	};
	struct mime_msg	 m = base_msg();
	struct parsed	 p;
	char		*out, *dec;
	const char	*subj;
	size_t		 i;

	for (i = 0; i < nitems(t); i++) {
		out = NULL;
		m.subject = t[i].in;
		if (!build_parse(t[i].line, &m, &out, &p))
			goto next;
		subj = get_hdr(&p, "Subject");
		ok_at(t[i].line, count_hdr(&p, "Subject") == 1 &&
		    p.longest <= 78 && p.crlf, "case %zu: folded within 78, "
		    "longest %zu", i, p.longest);
		if (!t[i].encoded) {
			ok_at(t[i].line, strcmp(subj, t[i].in) == 0,
			    "case %zu: unfolds to the original", i);
			goto next;
		}
		dec = decode_words(subj);
		ok_at(t[i].line, dec != NULL && strcmp(dec, t[i].in) == 0,
		    "case %zu: words decode to the original", i);
		free(dec);
next:
		parsed_free(&p);
		free(out);
	}
}

static void
test_size_cap(void)
{
	struct mime_msg	 m = base_msg();
	char		*big, *out;
	size_t		 len;
	enum usher_err	 rc;

	big = xalloc(MIME_MAX + 1);
	memset(big, 'a', MIME_MAX);
	big[MIME_MAX] = '\0';

	/* 3/4 MiB of text is 1 MiB of base64 */
	big[MIME_MAX / 4 * 3] = '\0';
	m.html = NULL;
	m.text = big;
	out = (char *)"sentinel";
	rc = mime_build(&m, &out, &len);
	ok(rc == USHER_ERR_TOO_LARGE && out == NULL && len == 0,
	    "text past the cap: %d", (int)rc);

	big[MIME_MAX / 4 * 3] = 'a';
	big[MIME_MAX / 2] = '\0';
	m.text = "short";
	m.html = big;
	out = NULL;
	rc = mime_build(&m, &out, &len);
	ok(rc == USHER_OK && len > MIME_MAX / 2 && len <= MIME_MAX,
	    "1/2 MiB of HTML fits: %zu bytes", len);
	free(out);

	big[MIME_MAX / 2] = 'a';
	m.html = NULL;
	m.subject = big;
	out = (char *)"sentinel";
	rc = mime_build(&m, &out, &len);
	ok(rc == USHER_ERR_TOO_LARGE && out == NULL, "subject past the cap");
	free(big);
}

int
main(void)
{
	make_long();
	test_valid_addr();
	test_encode_plain();
	test_encode_utf8();
	test_encode_refused();
	test_build_refused();
	test_nul();
	test_message();
	test_boundary_random();
	test_text_only();
	test_long_body();
	test_date();
	test_to();
	test_from();
	test_no_reply_to();
	test_subject();
	test_size_cap();
	return done_testing();
}
