/* rnd.h -- randomness from the OS only, encodings and digests */
#ifndef USHER_RND_H
#define USHER_RND_H

#include <stddef.h>

#include "err.h"

/* Fill buf from getrandom(2); no fallback. USHER_ERR_INTERNAL on failure. */
enum usher_err	 rnd_bytes(void *buf, size_t len);
/* A random (v4) UUID, lowercase, into out[37]. */
enum usher_err	 rnd_uuid(char out[37]);
/* base64url without padding; the caller frees the result. */
char		*b64url_encode(const void *buf, size_t len);
/* Decode base64url (no padding) into out (cap `max`); 0 on bad input. */
int		 b64url_decode(const char *s, unsigned char *out, size_t max,
		    size_t *outlen);
/* Lowercase hex of buf into out, which holds 2 * len + 1 bytes. */
void		 hex_encode(const void *buf, size_t len, char *out);
/* SHA-256 of buf into out[32]. */
void		 sha256(const void *buf, size_t len, unsigned char out[32]);
/*
 * "\x" + lowercase hex of SHA-256(s): a token's digest as a bytea text
 * parameter (how refresh and link tokens are stored).
 */
#define DIGEST_PARAM	(2 + 64 + 1)
void		 digest_param(const char *s, char out[DIGEST_PARAM]);
/* Constant-time equality of two equal-length buffers (CRYPTO_memcmp). */
int		 ct_equal(const void *a, const void *b, size_t len);

#endif /* USHER_RND_H */
