/* mailtx.h -- mail transports behind one small table: file (a spool folder
 * of .eml files) and smtp (libcurl: smtp:// with STARTTLS required, or
 * smtps://), one connection reused across a batch */
#ifndef USHER_MAILTX_H
#define USHER_MAILTX_H

#include <stddef.h>

#include "err.h"

/* Settings of a transport, from the configuration. */
struct mailtx_cfg {
	const char	*spool;		/* file: folder of .eml files */
	const char	*url;		/* smtp: smtp://host[:port] or smtps://... */
	const char	*user;		/* smtp: may be NULL (no AUTH) */
	const char	*password;	/* smtp: may be NULL */
	const char	*ca_file;	/* smtp: extra CA bundle, may be NULL */
	unsigned	 timeout;	/* smtp: seconds for one message */
	const char	*helo;		/* smtp: EHLO name, may be NULL */
};

/* How one delivery went. */
enum mailtx_result {
	MAILTX_SENT,		/* accepted by the transport */
	MAILTX_TEMPORARY,	/* try again later (4xx, connection, TLS, auth) */
	MAILTX_PERMANENT	/* never (5xx to this message or recipient) */
};

struct mailtx;

/*
 * Open the transport named `name` ("file" or "smtp"). USHER_ERR_CONFIG
 * for an unknown name or settings it cannot use (an smtp:// URL is
 * always used with STARTTLS required). Caller closes.
 */
enum usher_err		 mailtx_open(const char *name, const struct mailtx_cfg *,
			    struct mailtx **);
/*
 * Deliver one message (the whole RFC 5322 text, CRLF line ends) from
 * envelope sender `from` to `to` (bare addresses). `id` names the file of
 * the file transport (a decimal number: "<id>.eml"). On failure `why`
 * (size whysz) says why, e.g. "550 5.1.1 user unknown"; never a password.
 */
enum mailtx_result	 mailtx_send(struct mailtx *, const char *id,
			    const char *from, const char *to, const char *msg,
			    size_t len, char *why, size_t whysz);
/* Close the connection, if any, and free; NULL is fine. */
void			 mailtx_close(struct mailtx *);

#endif /* USHER_MAILTX_H */
