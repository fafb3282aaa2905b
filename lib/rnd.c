/* rnd.c -- randomness from getrandom(2) only, base64url, hex and SHA-256 */
#include "config.h"

#include <sys/random.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log.h"
#include "rnd.h"
#include "xmalloc.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Fill buf with len bytes from the kernel's CSPRNG. getrandom(2) without
 * GRND_NONBLOCK waits until the pool is initialised; there is no fallback
 * to anything weaker: on failure the caller gets USHER_ERR_INTERNAL and
 * the buffer is wiped, so a half-filled buffer is never used as a secret.
 */
enum usher_err
rnd_bytes(void *buf, size_t len)
{
	unsigned char	*p = buf;
	size_t		 off = 0;
	ssize_t		 n;

	while (off < len) {
		n = getrandom(p + off, len - off, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("getrandom: %s", strerror(errno));
			explicit_bzero(buf, len);
			return USHER_ERR_INTERNAL;
		}
		off += (size_t)n;
	}
	return USHER_OK;
}

/* RFC 9562 section 5.4: 122 random bits, version 4, variant 10. */
enum usher_err
rnd_uuid(char out[37])
{
	unsigned char	 b[16];
	char		 hex[33];
	size_t		 i, o;

	out[0] = '\0';
	if (rnd_bytes(b, sizeof(b)) != USHER_OK)
		return USHER_ERR_INTERNAL;
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	hex_encode(b, sizeof(b), hex);
	for (i = 0, o = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[o++] = '-';
		out[o++] = hex[i];
	}
	out[o] = '\0';
	return USHER_OK;
}

/* RFC 4648 section 5, without padding. The caller frees the result. */
char *
b64url_encode(const void *buf, size_t len)
{
	const unsigned char	*in = buf;
	char			*out;
	size_t			 i, o;
	uint32_t		 v;

	if (len > (SIZE_MAX - 4) / 4 * 3)
		abort();
	out = xmalloc(len / 3 * 4 + 4);
	for (i = 0, o = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64url_alphabet[v >> 18 & 0x3f];
		out[o++] = b64url_alphabet[v >> 12 & 0x3f];
		out[o++] = b64url_alphabet[v >> 6 & 0x3f];
		out[o++] = b64url_alphabet[v & 0x3f];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64url_alphabet[v >> 18 & 0x3f];
		out[o++] = b64url_alphabet[v >> 12 & 0x3f];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url_alphabet[v >> 18 & 0x3f];
		out[o++] = b64url_alphabet[v >> 12 & 0x3f];
		out[o++] = b64url_alphabet[v >> 6 & 0x3f];
	}
	out[o] = '\0';
	return out;
}

/* Value of one base64url character, or -1. */
static int
b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Strict decoding: only the base64url alphabet, no padding, no
 * whitespace, and the canonical form only (a length of 1 mod 4 and
 * non-zero bits left over in the last character are refused), so each
 * byte string has exactly one accepted encoding. Returns 1 and sets
 * *outlen, or 0 when the input is bad or does not fit in max bytes.
 */
int
b64url_decode(const char *s, unsigned char *out, size_t max, size_t *outlen)
{
	size_t		 len, i, o, need;
	uint32_t	 acc = 0;
	int		 v, bits = 0;

	*outlen = 0;
	len = strlen(s);
	if (len % 4 == 1)
		return 0;
	need = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
	if (need > max)
		return 0;
	for (i = 0, o = 0; i < len; i++) {
		if ((v = b64url_value((unsigned char)s[i])) < 0)
			return 0;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* Left-over bits must be zero: reject non-canonical encodings. */
	if ((acc & ((1U << bits) - 1)) != 0)
		return 0;
	*outlen = o;
	return 1;
}

void
hex_encode(const void *buf, size_t len, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*in = buf;
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/*
 * A digest failure means libcrypto is broken; a wrong digest would be
 * compared with stored ones, so fail closed and let the server restart us,
 * as the allocation wrappers do.
 */
void
sha256(const void *buf, size_t len, unsigned char out[32])
{
	unsigned int	 n = 0;

	if (EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) != 1 ||
	    n != 32) {
		log_error("EVP_Digest failed");
		exit(1);
	}
}

int
ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void
digest_param(const char *s, char out[DIGEST_PARAM])
{
	unsigned char	d[32];

	sha256(s, strlen(s), d);
	out[0] = '\\';
	out[1] = 'x';
	hex_encode(d, sizeof(d), out + 2);
}
