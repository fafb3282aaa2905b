/* mime.h -- RFC 5322 / MIME messages for the mail outbox */
#ifndef USHER_MIME_H
#define USHER_MIME_H

#include <stddef.h>
#include <time.h>

#include "err.h"

#define MIME_MAX	(1024 * 1024)	/* bytes of one built message */
#define MIME_MSGID_MAX	250		/* bytes of a Message-ID with <> */

/* The parts of one message; mime_build only reads them. */
struct mime_msg {
	const char	*from;		/* "Name <addr@host>" or "addr@host" */
	const char	*reply_to;	/* the same form, or NULL */
	const char	*to;		/* bare address "local@domain" */
	const char	*to_name;	/* untrusted UTF-8 name, or NULL */
	const char	*subject;	/* UTF-8, rendered from a template */
	const char	*text;		/* UTF-8 plain-text body */
	const char	*html;		/* UTF-8 HTML body, or NULL */
	const char	*message_id;	/* "<...@...>", stable per outbox row */
	time_t		 date;
};

/*
 * Build the message (RFC 5322, MIME per RFC 2045-2047) into a new
 * NUL-terminated buffer: *out, of *outlen bytes without the NUL; the
 * caller frees it. Header lines end in CRLF and are folded to 78 columns
 * (never past 998); bodies are base64 of the text with line ends made
 * CRLF, as one text/plain part or, with html, multipart/alternative.
 * USHER_ERR_INVALID when a header input is unsafe (CR, LF, controls, bad
 * address or Message-ID) or any text is not UTF-8; USHER_ERR_TOO_LARGE
 * past MIME_MAX; USHER_ERR_INTERNAL when no random boundary could be had.
 * On error *out is NULL and nothing is built.
 */
enum usher_err	 mime_build(const struct mime_msg *, char **out,
		    size_t *outlen);

/*
 * 1 when s is safe as a mail address, else 0: 3..254 bytes of printable
 * ASCII with exactly one '@' between a local part of 1..64 bytes and a
 * non-empty domain, and no space, control character or RFC 5322 special
 * but '.' (so no CR, LF, '<', '>', '"', ',', ';', ':', '(', ')', '[', ']'
 * or '\\').
 */
int		 mime_valid_addr(const char *s);

/*
 * The address of a configured sender, "Name <addr>" or "addr", into out
 * (size sz); 1 when it is there and mime_valid_addr() takes it.
 */
int		 mime_sender_addr(const char *s, char *out, size_t sz);

/*
 * RFC 2047 encoding of a UTF-8 header text, a phrase (display name) when
 * is_phrase, else unstructured text (Subject). ASCII text that needs no
 * encoding comes back as it is, a phrase with specials as an RFC 5322
 * quoted string; other text (non-ASCII, a run too long to fold, or
 * anything that looks like an encoded word) becomes "=?UTF-8?B?...?="
 * words of at most 75 characters, each holding whole UTF-8 sequences,
 * separated by CRLF SP. NULL when utf8 is NULL, is not UTF-8, holds a C0
 * control (CR, LF, TAB ...) or DEL, or the result would pass MIME_MAX.
 * The caller frees the result.
 */
char		*mime_encode_header(const char *utf8, int is_phrase);

#endif /* USHER_MIME_H */
