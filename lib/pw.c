/* pw.c -- scrypt password hashes (libscrypt) and the password policy */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libscrypt.h>
#include <openssl/evp.h>

#include "log.h"
#include "pw.h"
#include "rnd.h"
#include "valid.h"
#include "xmalloc.h"

/*
 * libscrypt's MCF (crypto-mcf.c): "$s1$" PPPPPP "$" salt "$" hash, where
 * PPPPPP is the hex of log2(N) << 16 | r << 8 | p, and salt (16 bytes) and
 * hash (64 bytes) are standard base64 with padding. Only this exact shape
 * is accepted from storage.
 */
#define PW_SALT_LEN	16
#define PW_DK_LEN	64
#define PW_SALT_B64	24			/* base64 of 16 bytes, padded */
#define PW_DK_B64	88			/* base64 of 64 bytes, padded */
#define PW_MCF_LEN	(4 + 6 + 1 + PW_SALT_B64 + 1 + PW_DK_B64)
#define PW_COMMON_FILE	(8 * 1024 * 1024)	/* largest common list read */

struct pw_set {
	uint64_t	 n;
	uint32_t	 r;
	uint32_t	 p;
};

/* OWASP's equal-strength scrypt sets: stored hashes may use any of them. */
static const struct pw_set pw_known[] = {
	{ 1ULL << 17, 8, 1 },
	{ 1ULL << 16, 8, 2 },
	{ 1ULL << 15, 8, 3 },
	{ 1ULL << 14, 8, 5 },
	{ 1ULL << 13, 8, 10 },
};

/* Cheap sets for tests and benchmarks, accepted only with allow_weak. */
static const struct pw_set pw_weak[] = {
	{ 1ULL << 10, 8, 1 },
	{ 1ULL << 11, 8, 1 },
	{ 1ULL << 12, 8, 1 },
	{ 1ULL << 13, 8, 1 },
	{ 1ULL << 14, 8, 1 },
};

static struct pw_set	 pw_cur;		/* parameters of new hashes */
static int		 pw_allow_weak;
static unsigned		 pw_min_chars = LIM_PASSWORD_MIN;
static char		 pw_dummy[LIM_SCRYPT_HASH];	/* for unknown users */

/* The common list: lowercase entries in one buffer, sorted offsets. */
static char		*pw_common;
static uint32_t		*pw_common_off;
static size_t		 pw_ncommon;

static uint64_t
pw_work(const struct pw_set *s)
{
	return s->n * s->r * s->p;
}

static int
is_pow2(uint64_t n)
{
	return n >= 2 && (n & (n - 1)) == 0;
}

/*
 * Parameters a configuration may choose: libscrypt's MCF holds r and p in
 * one byte each; unless allow_weak, r >= 8 and at least the work of
 * N=2^15,r=8,p=3 (OWASP, ASVS 5.0).
 */
static int
valid_config_set(const struct pw_set *s, int allow_weak)
{
	if (!is_pow2(s->n) || s->n > (1ULL << LIM_SCRYPT_LOGN_MAX))
		return 0;
	if (s->r < 1 || s->r > 255 || s->p < 1 || s->p > 255)
		return 0;
	if (allow_weak)
		return 1;
	return s->r >= LIM_SCRYPT_R_MIN && pw_work(s) >= LIM_SCRYPT_WORK_MIN;
}

static int
set_in(const struct pw_set *s, const struct pw_set *tab, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (tab[i].n == s->n && tab[i].r == s->r && tab[i].p == s->p)
			return 1;
	return 0;
}

/*
 * Whether a stored hash's parameters may be used. They come from the
 * database, so an unknown set (say N=2^30) is refused rather than run.
 */
static int
is_known_set(const struct pw_set *s)
{
	if (set_in(s, pw_known, sizeof(pw_known) / sizeof(pw_known[0])))
		return 1;
	if (pw_cur.n != 0 && s->n == pw_cur.n && s->r == pw_cur.r &&
	    s->p == pw_cur.p)
		return 1;
	return pw_allow_weak &&
	    set_in(s, pw_weak, sizeof(pw_weak) / sizeof(pw_weak[0]));
}

static int
is_b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* len characters of standard base64 whose last two are "==" padding. */
static int
is_b64_padded(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len - 2; i++)
		if (!is_b64_char(s[i]))
			return 0;
	return s[len - 2] == '=' && s[len - 1] == '=';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly "$s1$pppppp$<24 base64>$<88 base64>", lowercase hex. */
int
pw_params(const char *stored, uint64_t *n, uint32_t *r, uint32_t *p)
{
	const char	*salt, *dk;
	uint32_t	 v = 0, logn;
	size_t		 i;
	int		 h;

	if (stored == NULL || strnlen(stored, PW_MCF_LEN + 1) != PW_MCF_LEN ||
	    strncmp(stored, "$s1$", 4) != 0)
		return 0;
	for (i = 4; i < 10; i++) {
		if ((h = hexval(stored[i])) < 0)
			return 0;
		v = v << 4 | (uint32_t)h;
	}
	salt = stored + 11;
	dk = salt + PW_SALT_B64 + 1;
	if (stored[10] != '$' || dk[-1] != '$' ||
	    !is_b64_padded(salt, PW_SALT_B64) || !is_b64_padded(dk, PW_DK_B64))
		return 0;
	logn = v >> 16;
	if (logn < 1 || logn > 63 || (v >> 8 & 0xff) == 0 || (v & 0xff) == 0)
		return 0;
	*n = 1ULL << logn;
	*r = v >> 8 & 0xff;
	*p = v & 0xff;
	return 1;
}

enum usher_err
pw_init(uint64_t n, uint32_t r, uint32_t p, int allow_weak,
    unsigned min_chars)
{
	struct pw_set	 s = { n, r, p };
	unsigned char	 rnd[32];
	char		*fake;
	enum usher_err	 rc;

	if (!valid_config_set(&s, allow_weak)) {
		log_error("refusing scrypt parameters N=%llu r=%u p=%u",
		    (unsigned long long)n, r, p);
		return USHER_ERR_CONFIG;
	}
	if (min_chars < LIM_PASSWORD_MIN_FLOOR || min_chars > LIM_PASSWORD) {
		log_error("refusing password minimum of %u", min_chars);
		return USHER_ERR_CONFIG;
	}
	pw_cur = s;
	pw_allow_weak = allow_weak;
	pw_min_chars = min_chars;

	/* The dummy hash: a random password nobody knows, same parameters. */
	if (rnd_bytes(rnd, sizeof(rnd)) != USHER_OK)
		return USHER_ERR_INTERNAL;
	fake = b64url_encode(rnd, sizeof(rnd));
	rc = pw_hash(fake, strlen(fake), pw_dummy);
	explicit_bzero(rnd, sizeof(rnd));
	explicit_bzero(fake, strlen(fake));
	free(fake);
	return rc;
}

enum usher_err
pw_hash(const char *pw, size_t len, char out[LIM_SCRYPT_HASH])
{
	unsigned char	 salt[PW_SALT_LEN], dk[PW_DK_LEN];
	char		 salt64[PW_SALT_B64 + 1], dk64[PW_DK_B64 + 1];
	enum usher_err	 rc = USHER_ERR_INTERNAL;

	out[0] = '\0';
	if (pw_cur.n == 0) {
		log_error("pw_init was not called");
		return USHER_ERR_INTERNAL;
	}
	/* libscrypt_check stops at the first NUL: such a hash never matches. */
	if (pw == NULL || len > LIM_PASSWORD || memchr(pw, '\0', len) != NULL)
		return USHER_ERR_WEAK_PASSWORD;
	if (rnd_bytes(salt, sizeof(salt)) != USHER_OK)
		goto out;
	if (libscrypt_scrypt((const uint8_t *)pw, len, salt, sizeof(salt),
	    pw_cur.n, pw_cur.r, pw_cur.p, dk, sizeof(dk)) != 0) {
		log_error("libscrypt_scrypt failed");
		goto out;
	}
	if (EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof(salt)) !=
	    PW_SALT_B64 || EVP_EncodeBlock((unsigned char *)dk64, dk,
	    sizeof(dk)) != PW_DK_B64) {
		log_error("EVP_EncodeBlock failed");
		goto out;
	}
	if (libscrypt_mcf((uint32_t)pw_cur.n, pw_cur.r, pw_cur.p, salt64, dk64,
	    out) != 1 || strlen(out) != PW_MCF_LEN) {
		log_error("libscrypt_mcf failed");
		out[0] = '\0';
		goto out;
	}
	rc = USHER_OK;
out:
	explicit_bzero(dk, sizeof(dk));
	explicit_bzero(dk64, sizeof(dk64));
	return rc;
}

enum usher_err
pw_verify(const char *pw, size_t len, const char *stored, int *rehash)
{
	struct pw_set	 s;
	char		 buf[LIM_PASSWORD + 1], mcf[LIM_SCRYPT_HASH];
	int		 ok;

	if (rehash != NULL)
		*rehash = 0;
	if (!pw_params(stored, &s.n, &s.r, &s.p)) {
		log_error("malformed stored password hash");
		return USHER_ERR_INTERNAL;
	}
	if (!is_known_set(&s)) {
		log_error("unknown scrypt parameters N=%llu r=%u p=%u in a "
		    "stored hash", (unsigned long long)s.n, s.r, s.p);
		return USHER_ERR_INTERNAL;
	}
	if (pw == NULL || len > LIM_PASSWORD || memchr(pw, '\0', len) != NULL)
		return USHER_ERR_CREDENTIALS;

	/* libscrypt_check tokenises (writes into) its MCF: use copies. */
	memcpy(buf, pw, len);
	buf[len] = '\0';
	memcpy(mcf, stored, PW_MCF_LEN + 1);
	ok = libscrypt_check(mcf, buf);
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(mcf, sizeof(mcf));
	if (ok < 0) {
		log_error("libscrypt_check failed");
		return USHER_ERR_INTERNAL;
	}
	if (ok == 0)
		return USHER_ERR_CREDENTIALS;
	if (rehash != NULL && pw_work(&s) < pw_work(&pw_cur))
		*rehash = 1;
	return USHER_OK;
}

void
pw_verify_dummy(const char *pw, size_t len)
{
	int	rehash;

	(void)pw_verify(pw, len, pw_dummy, &rehash);
}

/* ASCII case folding only: the list is ASCII and folding must not grow. */
static void
fold_ascii(char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
}

static int
common_cmp(const void *a, const void *b)
{
	return strcmp(pw_common + *(const uint32_t *)a,
	    pw_common + *(const uint32_t *)b);
}

static int
common_find(const void *key, const void *elem)
{
	return strcmp(key, pw_common + *(const uint32_t *)elem);
}

static int
is_common(const char *pw, size_t len)
{
	char	buf[LIM_PASSWORD + 1];
	int	found;

	if (pw_ncommon == 0)
		return 0;
	memcpy(buf, pw, len);
	buf[len] = '\0';
	fold_ascii(buf, len);
	found = bsearch(buf, pw_common_off, pw_ncommon, sizeof(uint32_t),
	    common_find) != NULL;
	explicit_bzero(buf, sizeof(buf));
	return found;
}

enum usher_err
pw_policy(const char *pw, size_t len)
{
	size_t	i, chars = 0;

	if (pw == NULL || len > LIM_PASSWORD || !valid_utf8(pw, len))
		return USHER_ERR_WEAK_PASSWORD;
	/* valid_utf8 refuses NUL; this is the contract, so check it here. */
	if (memchr(pw, '\0', len) != NULL)
		return USHER_ERR_WEAK_PASSWORD;
	for (i = 0; i < len; i++)
		if (((unsigned char)pw[i] & 0xc0) != 0x80)
			chars++;
	if (chars < pw_min_chars)
		return USHER_ERR_WEAK_PASSWORD;
	if (is_common(pw, len))
		return USHER_ERR_WEAK_PASSWORD;
	return USHER_OK;
}

/* Read a whole file of at most max bytes, NUL-terminated; caller frees. */
static char *
read_file(const char *path, size_t max, size_t *lenp)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, n;

	if ((f = fopen(path, "re")) == NULL) {
		log_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 65536 : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
		if (len > max) {
			log_error("%s: larger than %zu bytes", path, max);
			goto fail;
		}
	}
	if (ferror(f)) {
		log_error("%s: read error", path);
		goto fail;
	}
	fclose(f);
	buf[len] = '\0';
	*lenp = len;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

/*
 * Turn buf into NUL-terminated, folded entries, one per line; '#' lines,
 * blank lines and lines too long to be a password are skipped. Returns the
 * offsets (caller frees) and their number in *np.
 */
static uint32_t *
split_lines(char *buf, size_t len, size_t *np)
{
	uint32_t	*off = NULL;
	size_t		 n = 0, cap = 0, i = 0, end, l;
	char		*nl;

	while (i < len) {
		nl = memchr(buf + i, '\n', len - i);
		end = nl == NULL ? len : (size_t)(nl - buf);
		buf[end] = '\0';
		l = end - i;
		if (l > 0 && buf[end - 1] == '\r') {
			buf[end - 1] = '\0';
			l--;
		}
		if (l > 0 && l <= LIM_PASSWORD && buf[i] != '#' &&
		    strlen(buf + i) == l) {
			if (n == cap) {
				cap = cap == 0 ? 1024 : cap * 2;
				off = xrealloc(off, cap * sizeof(*off));
			}
			fold_ascii(buf + i, l);
			off[n++] = (uint32_t)i;
		}
		i = end + 1;
	}
	*np = n;
	return off;
}

enum usher_err
pw_load_common(const char *path)
{
	char		*buf;
	uint32_t	*off;
	size_t		 len, n, i, k;

	if ((buf = read_file(path, PW_COMMON_FILE, &len)) == NULL)
		return USHER_ERR_CONFIG;
	off = split_lines(buf, len, &n);

	free(pw_common);
	free(pw_common_off);
	pw_common = buf;
	pw_common_off = off;
	pw_ncommon = 0;
	if (n == 0)
		return USHER_OK;
	qsort(off, n, sizeof(*off), common_cmp);
	for (i = 1, k = 1; i < n; i++)
		if (strcmp(buf + off[i], buf + off[k - 1]) != 0)
			off[k++] = off[i];
	pw_ncommon = k;
	log_debug("%zu common passwords loaded from %s", k, path);
	return USHER_OK;
}

void
pw_free(void)
{
	free(pw_common);
	free(pw_common_off);
	pw_common = NULL;
	pw_common_off = NULL;
	pw_ncommon = 0;
	explicit_bzero(pw_dummy, sizeof(pw_dummy));
	memset(&pw_cur, 0, sizeof(pw_cur));
	pw_allow_weak = 0;
	pw_min_chars = LIM_PASSWORD_MIN;
}
