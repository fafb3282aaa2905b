/* mime.c -- RFC 5322 / MIME messages for the mail outbox, RFC 2047 words */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "buf.h"
#include "limits.h"
#include "log.h"
#include "mime.h"
#include "rnd.h"
#include "valid.h"
#include "xmalloc.h"

#define LINE_SOFT	76	/* RFC 2047 2 for lines with encoded words;
				   RFC 5322 2.1.1 allows 78 for the rest */
#define LOCAL_MAX	64	/* local part, RFC 5321 4.5.3.1.1 */
#define WORD_BYTES	39	/* UTF-8 bytes per encoded word: 64 columns,
				   so "Reply-To: " and a word fit in 76 */
#define RUN_MAX		60	/* longest unfoldable ASCII run left as is */
#define B64_BYTES	57	/* bytes per base64 line of 76, RFC 2045 6.8 */

#define TEXT_PLAIN	"text/plain; charset=utf-8"
#define TEXT_HTML	"text/html; charset=utf-8"

/* RFC 5322 3.3 names, whatever the locale. */
static const char *const wdays[7] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* Log a refusal under mime_build, the function the outbox calls. */
static enum usher_err
refuse(const char *what)
{
	log_msg(LOG_LVL_WARN, "mime_build", "unsafe %s: message not built",
	    what);
	return USHER_ERR_INVALID;
}

/* Printable ASCII but space and the RFC 5322 specials other than '.'. */
static int
is_addr_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && strchr("()<>[]:;@\\,\"", c) == NULL;
}

static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/*
 * 1 when s[0..len) is left "@" right, both sides non-empty, the left at
 * most maxleft bytes and every other byte an address character.
 */
static int
valid_pair(const char *s, size_t len, size_t maxleft)
{
	const char	*at;
	size_t		 left, i;

	at = memchr(s, '@', len);
	if (at == NULL)
		return 0;
	left = (size_t)(at - s);
	if (left == 0 || left > maxleft || left + 1 >= len)
		return 0;
	for (i = 0; i < len; i++)
		if (i != left && !is_addr_char((unsigned char)s[i]))
			return 0;
	return 1;
}

int
mime_valid_addr(const char *s)
{
	size_t	len;

	if (s == NULL)
		return 0;
	len = strnlen(s, LIM_EMAIL + 1);
	return len >= 3 && len <= LIM_EMAIL && valid_pair(s, len, LOCAL_MAX);
}

/* RFC 5322 3.6.4 msg-id, dot-atom on both sides (no domain literal). */
static int
valid_msgid(const char *s)
{
	size_t	len;

	if (s == NULL)
		return 0;
	len = strnlen(s, MIME_MSGID_MAX + 1);
	return len >= 5 && len <= MIME_MSGID_MAX && s[0] == '<' &&
	    s[len - 1] == '>' && valid_pair(s + 1, len - 2, len);
}

/* UTF-8 without C0 controls or DEL: once encoded, safe in a header. */
static int
valid_header_text(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return valid_utf8(s, i);
}

/*
 * Bytes of s up to its next fold point: a space that a non-space
 * follows, where CRLF may go in (RFC 5322 2.2.3) without leaving a line
 * of white space alone.
 */
static size_t
seg_len(const char *s)
{
	size_t	n;

	if (*s == '\0')
		return 0;
	for (n = 1; s[n] != '\0'; n++)
		if (s[n] == ' ' && s[n + 1] != ' ' && s[n + 1] != '\0')
			break;
	return n;
}

/*
 * Non-ASCII text, a run too long to fold, and text that a reader could
 * take for an encoded word (RFC 2047 6.2) all go in encoded words.
 */
static int
needs_encoding(const char *s)
{
	const char	*p;

	if (strstr(s, "=?") != NULL)
		return 1;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			return 1;
	for (p = s; *p != '\0'; p += seg_len(p))
		if (seg_len(p) > RUN_MAX)
			return 1;
	return 0;
}

/* 0 when s is atoms and spaces (RFC 5322 3.2.3), a phrase as it is. */
static int
needs_quoting(const char *s)
{
	int	atoms = 0;

	for (; *s != '\0'; s++) {
		if (*s == ' ')
			continue;
		if (!is_atext((unsigned char)*s))
			return 1;
		atoms = 1;
	}
	return !atoms;
}

static void
put_quoted(struct buf *b, const char *s)
{
	buf_str(b, "\"");
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_str(b, "\\");
		buf_add(b, s, 1);
	}
	buf_str(b, "\"");
}

/* Length of the sequence that c leads, in valid UTF-8. */
static size_t
seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	return 4;
}

/* RFC 2047 "B" words of at most WORD_BYTES whole UTF-8 sequences. */
static void
put_words(struct buf *b, const char *s, const char *sep)
{
	unsigned char	 enc[(WORD_BYTES + 2) / 3 * 4 + 1];
	size_t		 n, k;

	while (*s != '\0') {
		n = 0;
		while (s[n] != '\0') {
			k = seq_len((unsigned char)s[n]);
			if (n + k > WORD_BYTES)
				break;
			n += k;
		}
		EVP_EncodeBlock(enc, (const unsigned char *)s, (int)n);
		buf_str(b, "=?UTF-8?B?");
		buf_str(b, (const char *)enc);
		buf_str(b, "?=");
		s += n;
		if (*s != '\0')
			buf_str(b, sep);
	}
}

/* Append s as header text (see mime_encode_header), words split by sep. */
static enum usher_err
put_text(struct buf *b, const char *s, int is_phrase, const char *sep)
{
	if (!valid_header_text(s))
		return USHER_ERR_INVALID;
	if (needs_encoding(s))
		put_words(b, s, sep);
	else if (is_phrase && needs_quoting(s))
		put_quoted(b, s);
	else
		buf_str(b, s);
	return USHER_OK;
}

char *
mime_encode_header(const char *utf8, int is_phrase)
{
	struct buf	 b;
	char		*out = NULL;
	size_t		 len;

	buf_init(&b, MIME_MAX);
	if (utf8 != NULL && put_text(&b, utf8, is_phrase, "\r\n ") ==
	    USHER_OK)
		(void)buf_take(&b, &out, &len);
	buf_free(&b);
	return out;
}

/*
 * Append "name: value" CRLF, folded at value's fold points so lines stay
 * within LINE_SOFT where a segment allows. Our segments are all far below
 * the 998 limit: encoded words, quoted runs of RUN_MAX, addresses of
 * LIM_EMAIL, Message-IDs of MIME_MSGID_MAX.
 */
static void
put_header(struct buf *b, const char *name, const char *value)
{
	const char	*w = value;
	size_t		 col, n;

	buf_str(b, name);
	buf_str(b, ": ");
	col = strlen(name) + 2;
	while (*w != '\0') {
		n = seg_len(w);
		if (w != value && col + n > LINE_SOFT) {
			buf_str(b, "\r\n");
			col = 0;
		}
		buf_add(b, w, n);
		col += n;
		w += n;
	}
	buf_str(b, "\r\n");
}

/* put_header with a value built in v, whose overflow carries over. */
static void
put_value(struct buf *b, const char *name, struct buf *v)
{
	if (v->over)
		b->over = 1;
	else
		put_header(b, name, v->p != NULL ? v->p : "");
}

/* "name: display <addr>", or "name: addr" when display is NULL or "". */
static enum usher_err
put_mailbox(struct buf *b, const char *name, const char *display,
    const char *addr)
{
	struct buf	v;
	enum usher_err	rc = USHER_ERR_INVALID;

	buf_init(&v, MIME_MAX);
	if (!mime_valid_addr(addr))
		goto out;
	if (display != NULL && *display != '\0') {
		if (put_text(&v, display, 1, " ") != USHER_OK)
			goto out;
		buf_str(&v, " <");
		buf_str(&v, addr);
		buf_str(&v, ">");
	} else
		buf_str(&v, addr);
	put_value(b, name, &v);
	rc = USHER_OK;
out:
	buf_free(&v);
	return rc;
}

/* A new copy of [s, e), without the outer quotes and escapes if quoted. */
static char *
unquote(const char *s, const char *e)
{
	char	*out;
	size_t	 o = 0;
	int	 quoted;

	quoted = e - s >= 2 && *s == '"' && e[-1] == '"';
	if (quoted) {
		s++;
		e--;
	}
	out = xmalloc((size_t)(e - s) + 1);
	for (; s < e; s++) {
		if (quoted && *s == '\\' && s + 1 < e)
			s++;
		out[o++] = *s;
	}
	out[o] = '\0';
	return out;
}

/*
 * A configured sender, "Name <addr>" (the name may be quoted) or "addr",
 * as its From or Reply-To header.
 */
static enum usher_err
put_sender(struct buf *b, const char *name, const char *cfg)
{
	const char	*lt, *s, *e;
	char		*display, addr[LIM_EMAIL + 1];
	enum usher_err	 rc;

	if (cfg == NULL || !mime_sender_addr(cfg, addr, sizeof(addr)))
		return USHER_ERR_INVALID;
	if ((lt = strrchr(cfg, '<')) == NULL)
		return put_mailbox(b, name, NULL, addr);
	for (s = cfg; s < lt && *s == ' '; s++)
		continue;
	for (e = lt; e > s && e[-1] == ' '; e--)
		continue;
	display = unquote(s, e);
	rc = put_mailbox(b, name, display, addr);
	free(display);
	return rc;
}

int
mime_sender_addr(const char *s, char *out, size_t sz)
{
	const char	*a, *lt;
	size_t		 len = strlen(s), n;

	a = s;
	n = len;
	if ((lt = strrchr(s, '<')) != NULL) {
		if (s[len - 1] != '>')
			return 0;
		a = lt + 1;
		n = (size_t)(s + len - 1 - a);
	}
	if (n >= sz)
		return 0;
	memcpy(out, a, n);
	out[n] = '\0';
	return mime_valid_addr(out);
}

static enum usher_err
put_subject(struct buf *b, const char *subject)
{
	struct buf	v;
	enum usher_err	rc = USHER_ERR_INVALID;

	buf_init(&v, MIME_MAX);
	if (subject != NULL)
		rc = put_text(&v, subject, 0, " ");
	if (rc == USHER_OK)
		put_value(b, "Subject", &v);
	buf_free(&v);
	return rc;
}

/* RFC 5322 3.3 date-time in UTC; years before 1900 or past 9999 refused. */
static enum usher_err
put_date(struct buf *b, time_t t)
{
	struct tm	tm;
	char		date[64];

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < 0 ||
	    tm.tm_year > 9999 - 1900)
		return USHER_ERR_INVALID;
	snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    wdays[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	put_header(b, "Date", date);
	return USHER_OK;
}

static enum usher_err
put_headers(struct buf *b, const struct mime_msg *m)
{
	if (put_date(b, m->date) != USHER_OK)
		return refuse("Date");
	if (put_sender(b, "From", m->from) != USHER_OK)
		return refuse("From");
	if (m->reply_to != NULL &&
	    put_sender(b, "Reply-To", m->reply_to) != USHER_OK)
		return refuse("Reply-To");
	if (put_mailbox(b, "To", m->to_name, m->to) != USHER_OK)
		return refuse("To");
	if (put_subject(b, m->subject) != USHER_OK)
		return refuse("Subject");
	if (!valid_msgid(m->message_id))
		return refuse("Message-ID");
	put_header(b, "Message-ID", m->message_id);
	put_header(b, "MIME-Version", "1.0");
	put_header(b, "Auto-Submitted", "auto-generated");
	return USHER_OK;
}

static void
put_b64_line(struct buf *b, const unsigned char *p, size_t n)
{
	unsigned char	line[B64_BYTES / 3 * 4 + 1];

	EVP_EncodeBlock(line, p, (int)n);
	buf_str(b, (const char *)line);
	buf_str(b, "\r\n");
}

static void
put_b64_byte(struct buf *b, unsigned char *line, size_t *n, unsigned char c)
{
	line[(*n)++] = c;
	if (*n == B64_BYTES) {
		put_b64_line(b, line, *n);
		*n = 0;
	}
}

/* s in base64 (RFC 2045 6.8), its LF, CR and CRLF line ends made CRLF. */
static void
put_base64(struct buf *b, const char *s)
{
	unsigned char	line[B64_BYTES];
	size_t		n = 0;

	for (; *s != '\0' && !b->over; s++) {
		if (*s != '\r' && *s != '\n') {
			put_b64_byte(b, line, &n, (unsigned char)*s);
			continue;
		}
		if (s[0] == '\r' && s[1] == '\n')
			s++;
		put_b64_byte(b, line, &n, '\r');
		put_b64_byte(b, line, &n, '\n');
	}
	if (n > 0)
		put_b64_line(b, line, n);
}

/* One body part; bound is NULL for a message of a single part. */
static void
put_part(struct buf *b, const char *bound, const char *type, const char *s)
{
	if (bound != NULL) {
		buf_str(b, "--");
		buf_str(b, bound);
		buf_str(b, "\r\n");
	}
	put_header(b, "Content-Type", type);
	put_header(b, "Content-Transfer-Encoding", "base64");
	buf_str(b, "\r\n");
	put_base64(b, s);
}

/* RFC 2046 5.1.4: the text first, as the least preferred alternative. */
static enum usher_err
put_body(struct buf *b, const struct mime_msg *m)
{
	unsigned char	rnd[16];
	char		hex[sizeof(rnd) * 2 + 1], bound[64], type[128];

	if (m->html == NULL) {
		put_part(b, NULL, TEXT_PLAIN, m->text);
		return USHER_OK;
	}
	if (rnd_bytes(rnd, sizeof(rnd)) != USHER_OK)
		return USHER_ERR_INTERNAL;
	/* "=_" never occurs in base64, so no body line can match */
	hex_encode(rnd, sizeof(rnd), hex);
	snprintf(bound, sizeof(bound), "=_usher_%s", hex);
	snprintf(type, sizeof(type), "multipart/alternative; boundary=\"%s\"",
	    bound);
	put_header(b, "Content-Type", type);
	buf_str(b, "\r\n");
	put_part(b, bound, TEXT_PLAIN, m->text);
	put_part(b, bound, TEXT_HTML, m->html);
	buf_str(b, "--");
	buf_str(b, bound);
	buf_str(b, "--\r\n");
	return USHER_OK;
}

static int
valid_body(const char *s)
{
	return s != NULL && valid_utf8(s, strlen(s));
}

enum usher_err
mime_build(const struct mime_msg *m, char **out, size_t *outlen)
{
	struct buf	b;
	enum usher_err	rc;

	buf_init(&b, MIME_MAX);
	*out = NULL;
	*outlen = 0;
	if (!valid_body(m->text) || (m->html != NULL && !valid_body(m->html))) {
		rc = refuse("body");
		goto out;
	}
	rc = put_headers(&b, m);
	if (rc != USHER_OK)
		goto out;
	rc = put_body(&b, m);
	if (rc != USHER_OK)
		goto out;
	rc = buf_take(&b, out, outlen);
	if (rc != USHER_OK)
		log_warn("message over %d bytes: not built", MIME_MAX);
out:
	buf_free(&b);
	return rc;
}
