/* tok.c -- access tokens: JWT signing (libjwt), pinned verification, JWKS */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "json.h"
#include "log.h"
#include "rnd.h"
#include "tok.h"
#include "valid.h"
#include "xmalloc.h"

#define TOK_KID_MAX	64		/* kid: 1..64 of [A-Za-z0-9._-] */
#define TOK_PEM_MAX	(16 * 1024)	/* key material accepted by _add */
#define TOK_RSA_BITS	2048		/* generated, and the least accepted */
#define TOK_HS_GEN	48		/* random bytes of a generated secret */
#define TOK_SIG_MAX	1024		/* signature bytes (RSA 8192) */

/* jwt_add_grant_int takes a long; times are 64-bit. */
_Static_assert(sizeof(long) >= sizeof(int64_t), "long must hold int64_t");

struct tok_key {
	char		 kid[TOK_KID_MAX + 1];
	enum tok_alg	 alg;
	unsigned char	*sign;		/* private PEM or secret; NULL: verify only */
	size_t		 signlen;
	unsigned char	*verify;	/* public PEM, or the HS256 secret */
	size_t		 verifylen;
	size_t		 siglen;	/* bytes of a signature by this key */
	char		*jwk_a;		/* base64url: EC x, RSA n */
	char		*jwk_b;		/* base64url: EC y, RSA e */
};

struct tok_keyset {
	struct tok_key	 key[LIM_KEYS];
	size_t		 n;		/* in order of addition, newest last */
};

static const char *const tok_alg_names[TOK__MAX] = {
	[TOK_ES256] = "ES256",
	[TOK_RS256] = "RS256",
	[TOK_HS256] = "HS256",
};

static const jwt_alg_t tok_jwt_alg[TOK__MAX] = {
	[TOK_ES256] = JWT_ALG_ES256,
	[TOK_RS256] = JWT_ALG_RS256,
	[TOK_HS256] = JWT_ALG_HS256,
};

/* The roles of the contract (user.h has the enum; tok sits below it). */
static const char *const tok_roles[] = { "guest", "user", "moderator", "admin" };

/* Header members we issue; anything else (crit, jku, x5u, ...) is refused. */
static const char *const tok_header_members[] = { "alg", "kid", "typ" };
#define TOK_NHEADER	(sizeof(tok_header_members) / sizeof(tok_header_members[0]))

enum tok_alg
tok_alg_parse(const char *s)
{
	size_t	i;

	for (i = 0; s != NULL && i < TOK__MAX; i++)
		if (strcmp(s, tok_alg_names[i]) == 0)
			return (enum tok_alg)i;
	return TOK__MAX;
}

const char *
tok_alg_name(enum tok_alg alg)
{
	return (unsigned)alg < TOK__MAX ? tok_alg_names[alg] : "unknown";
}

static int
valid_kid(const char *kid)
{
	size_t	i, len;

	if (kid == NULL || (len = strlen(kid)) == 0 || len > TOK_KID_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((kid[i] >= 'a' && kid[i] <= 'z') ||
		    (kid[i] >= 'A' && kid[i] <= 'Z') ||
		    (kid[i] >= '0' && kid[i] <= '9') ||
		    kid[i] == '.' || kid[i] == '_' || kid[i] == '-'))
			return 0;
	return 1;
}

static int
valid_role_name(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(tok_roles) / sizeof(tok_roles[0]); i++)
		if (strcmp(s, tok_roles[i]) == 0)
			return 1;
	return 0;
}

static void *
memdup(const void *p, size_t len)
{
	void	*q;

	q = xmalloc(len + 1);
	memcpy(q, p, len);
	((char *)q)[len] = '\0';
	return q;
}

static void
wipe_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

static void
key_clear(struct tok_key *k)
{
	wipe_free(k->sign, k->signlen);
	wipe_free(k->verify, k->verifylen);
	free(k->jwk_a);
	free(k->jwk_b);
	explicit_bzero(k, sizeof(*k));
}

struct tok_keyset *
tok_keyset_new(void)
{
	return xcalloc(1, sizeof(struct tok_keyset));
}

void
tok_keyset_free(struct tok_keyset *ks)
{
	size_t	i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++)
		key_clear(&ks->key[i]);
	free(ks);
}

size_t
tok_keyset_count(const struct tok_keyset *ks)
{
	return ks == NULL ? 0 : ks->n;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;	/* encrypted keys are refused, never prompted for */
}

/* Copy what a memory BIO holds into a new NUL-terminated string. */
static unsigned char *
bio_copy(BIO *b, size_t *lenp)
{
	char	*data;
	long	 len;

	len = BIO_get_mem_data(b, &data);
	if (len <= 0)
		return NULL;
	*lenp = (size_t)len;
	return memdup(data, (size_t)len);
}

/* The PEM of pkey's public half (SubjectPublicKeyInfo). */
static unsigned char *
pem_public(EVP_PKEY *pkey, size_t *lenp)
{
	unsigned char	*out = NULL;
	BIO		*b;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (PEM_write_bio_PUBKEY(b, pkey) == 1)
		out = bio_copy(b, lenp);
	BIO_free(b);
	return out;
}

/* The PEM of pkey's private half (unencrypted PKCS#8); wiped on the way. */
static unsigned char *
pem_private(EVP_PKEY *pkey, size_t *lenp)
{
	unsigned char	*out = NULL;
	BIO		*b;

	if ((b = BIO_new(BIO_s_secmem())) == NULL)
		return NULL;
	if (PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL) == 1)
		out = bio_copy(b, lenp);
	BIO_free(b);	/* BUF_MEM_free clears secure buffers */
	return out;
}

/* Read a private key, or (when !priv) a public one, from PEM text. */
static EVP_PKEY *
pem_read(const char *pem, size_t len, int priv)
{
	EVP_PKEY	*pkey;
	BIO		*b;

	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NULL;
	if (priv)
		pkey = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	else
		pkey = PEM_read_bio_PUBKEY(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	return pkey;
}

/* ES256 needs an EC key on P-256, RS256 an RSA key of >= 2048 bits. */
static int
pkey_fits(EVP_PKEY *pkey, enum tok_alg alg)
{
	char	group[64];

	if (alg == TOK_RS256)
		return EVP_PKEY_is_a(pkey, "RSA") &&
		    EVP_PKEY_get_bits(pkey) >= TOK_RSA_BITS;
	if (!EVP_PKEY_is_a(pkey, "EC") ||
	    EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL) != 1)
		return 0;
	return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

/* base64url of a big number, left-padded with zeros to pad bytes if > 0. */
static char *
bn_b64url(EVP_PKEY *pkey, const char *param, int pad)
{
	BIGNUM		*bn = NULL;
	unsigned char	 buf[1024];
	char		*out = NULL;
	int		 len;

	if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
		return NULL;
	len = pad > 0 ? pad : BN_num_bytes(bn);
	if (len > 0 && (size_t)len <= sizeof(buf) &&
	    BN_bn2binpad(bn, buf, len) == len)
		out = b64url_encode(buf, (size_t)len);
	BN_free(bn);
	return out;
}

/* The JWK members of the public key (RFC 7518 sections 6.2.1, 6.3.1). */
static int
key_jwk(struct tok_key *k, EVP_PKEY *pkey)
{
	if (k->alg == TOK_ES256) {
		k->jwk_a = bn_b64url(pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		k->jwk_b = bn_b64url(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
	} else {
		k->jwk_a = bn_b64url(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
		k->jwk_b = bn_b64url(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
	}
	return k->jwk_a != NULL && k->jwk_b != NULL;
}

/*
 * Parse an ES256/RS256 key once: check its type, keep the normalised
 * public PEM for verification (libjwt 1.10 parses PEM on every call), the
 * private PEM only if it signs, and the JWK members.
 */
static enum usher_err
key_load_pk(struct tok_key *k, const char *pem, size_t len, int can_sign)
{
	EVP_PKEY	*pkey;
	enum usher_err	 rc = USHER_ERR_CONFIG;

	pkey = pem_read(pem, len, can_sign);
	if (pkey == NULL && !can_sign)
		pkey = pem_read(pem, len, 1);	/* a private key, verify only */
	if (pkey == NULL) {
		log_error("key %s: not a %s PEM key", k->kid,
		    can_sign ? "private" : "public");
		return USHER_ERR_CONFIG;
	}
	if (!pkey_fits(pkey, k->alg) || EVP_PKEY_get_size(pkey) <= 0) {
		log_error("key %s: not a key for %s", k->kid,
		    tok_alg_names[k->alg]);
		goto out;
	}
	/* ES256 signatures are R || S (RFC 7518 section 3.4), not DER. */
	k->siglen = k->alg == TOK_ES256 ? 64 : (size_t)EVP_PKEY_get_size(pkey);
	if (k->siglen > TOK_SIG_MAX) {
		log_error("key %s: too large", k->kid);
		goto out;
	}
	rc = USHER_ERR_INTERNAL;
	if ((k->verify = pem_public(pkey, &k->verifylen)) == NULL ||
	    (can_sign && (k->sign = pem_private(pkey, &k->signlen)) == NULL) ||
	    !key_jwk(k, pkey)) {
		log_error("key %s: cannot export", k->kid);
		goto out;
	}
	rc = USHER_OK;
out:
	EVP_PKEY_free(pkey);
	return rc;
}

static enum usher_err
key_load_hs(struct tok_key *k, const char *secret, size_t len, int can_sign)
{
	if (len < LIM_HS256_SECRET_MIN) {
		log_error("key %s: HS256 secret shorter than %d bytes", k->kid,
		    LIM_HS256_SECRET_MIN);
		return USHER_ERR_CONFIG;
	}
	k->verify = memdup(secret, len);
	k->verifylen = len;
	k->siglen = 32;
	if (can_sign) {
		k->sign = memdup(secret, len);
		k->signlen = len;
	}
	return USHER_OK;
}

static const struct tok_key *
key_find(const struct tok_keyset *ks, const char *kid)
{
	size_t	i;

	for (i = 0; i < ks->n; i++)
		if (strcmp(ks->key[i].kid, kid) == 0)
			return &ks->key[i];
	return NULL;
}

enum usher_err
tok_keyset_add(struct tok_keyset *ks, const char *kid, enum tok_alg alg,
    const char *pem, size_t pemlen, int can_sign)
{
	struct tok_key	*k;
	enum usher_err	 rc;

	if (ks == NULL || !valid_kid(kid) || (unsigned)alg >= TOK__MAX ||
	    pem == NULL || pemlen == 0 || pemlen > TOK_PEM_MAX) {
		log_error("bad key id, algorithm or key material");
		return USHER_ERR_CONFIG;
	}
	if (ks->n == LIM_KEYS || key_find(ks, kid) != NULL) {
		log_error("key %s: key set full or key id taken", kid);
		return USHER_ERR_CONFIG;
	}
	k = &ks->key[ks->n];
	memset(k, 0, sizeof(*k));
	memcpy(k->kid, kid, strlen(kid) + 1);
	k->alg = alg;
	if (alg == TOK_HS256)
		rc = key_load_hs(k, pem, pemlen, can_sign);
	else
		rc = key_load_pk(k, pem, pemlen, can_sign);
	if (rc != USHER_OK) {
		key_clear(k);
		return rc;
	}
	ks->n++;
	return USHER_OK;
}

static EVP_PKEY *
keygen(enum tok_alg alg)
{
	if (alg == TOK_ES256)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)TOK_RSA_BITS);
}

/*
 * ES256: a P-256 key; RS256: RSA 2048. Both as PEM (PKCS#8 private key,
 * SubjectPublicKeyInfo public key). HS256: *priv_pem is a random
 * base64url secret of TOK_HS_GEN bytes and *pub_pem is NULL.
 */
enum usher_err
tok_key_generate(enum tok_alg alg, char **priv_pem, char **pub_pem)
{
	unsigned char	 rnd[TOK_HS_GEN];
	EVP_PKEY	*pkey;
	size_t		 len;

	*priv_pem = *pub_pem = NULL;
	if ((unsigned)alg >= TOK__MAX)
		return USHER_ERR_INTERNAL;
	if (alg == TOK_HS256) {
		if (rnd_bytes(rnd, sizeof(rnd)) != USHER_OK)
			return USHER_ERR_INTERNAL;
		*priv_pem = b64url_encode(rnd, sizeof(rnd));
		explicit_bzero(rnd, sizeof(rnd));
		return USHER_OK;
	}
	if ((pkey = keygen(alg)) == NULL) {
		log_error("%s key generation failed", tok_alg_names[alg]);
		return USHER_ERR_INTERNAL;
	}
	*priv_pem = (char *)pem_private(pkey, &len);
	*pub_pem = (char *)pem_public(pkey, &len);
	EVP_PKEY_free(pkey);
	if (*priv_pem == NULL || *pub_pem == NULL) {
		log_error("cannot write the %s key as PEM", tok_alg_names[alg]);
		if (*priv_pem != NULL)
			wipe_free(*priv_pem, strlen(*priv_pem));
		free(*pub_pem);
		*priv_pem = *pub_pem = NULL;
		return USHER_ERR_INTERNAL;
	}
	return USHER_OK;
}

static const struct tok_key *
key_signer(const struct tok_keyset *ks)
{
	size_t	i;

	for (i = ks->n; i > 0; i--)
		if (ks->key[i - 1].sign != NULL)
			return &ks->key[i - 1];
	return NULL;
}

/* Claims we would refuse to verify are refused when signing too. */
static int
claims_signable(const struct tok_claims *c)
{
	return valid_uuid(c->sub) && valid_uuid(c->sid) &&
	    (c->jti[0] == '\0' || valid_uuid(c->jti)) &&
	    valid_role_name(c->role) &&
	    strnlen(c->email, sizeof(c->email)) <= LIM_EMAIL &&
	    c->exp > c->iat && c->exp - c->iat <= LIM_ACCESS_TTL_MAX;
}

static int
add_grants(jwt_t *jwt, const char *iss, const char *aud,
    const struct tok_claims *c, const char *jti)
{
	return jwt_add_grant(jwt, "iss", iss) == 0 &&
	    jwt_add_grant(jwt, "aud", aud) == 0 &&
	    jwt_add_grant(jwt, "sub", c->sub) == 0 &&
	    jwt_add_grant(jwt, "sid", c->sid) == 0 &&
	    jwt_add_grant(jwt, "role", c->role) == 0 &&
	    (c->email[0] == '\0' ||
	    jwt_add_grant(jwt, "email", c->email) == 0) &&
	    jwt_add_grant_int(jwt, "iat", (long)c->iat) == 0 &&
	    jwt_add_grant_int(jwt, "exp", (long)c->exp) == 0 &&
	    jwt_add_grant(jwt, "jti", jti) == 0;
}

/*
 * Sign the claims with the newest key that can sign: header alg, kid and
 * typ "JWT"; claims iss, aud, sub, sid, role, email (left out when empty,
 * for guests), iat, exp and jti (a new UUID when c->jti is empty). The
 * caller frees *out.
 */
enum usher_err
tok_sign(const struct tok_keyset *ks, const char *iss, const char *aud,
    const struct tok_claims *c, char **out)
{
	const struct tok_key	*k;
	jwt_t			*jwt = NULL;
	char			 jti[37];
	char			*s = NULL;
	enum usher_err		 rc = USHER_ERR_INTERNAL;

	*out = NULL;
	if (ks == NULL || (k = key_signer(ks)) == NULL) {
		log_error("no signing key");
		return USHER_ERR_INTERNAL;
	}
	if (iss == NULL || aud == NULL || !claims_signable(c)) {
		log_error("refusing to sign malformed claims");
		return USHER_ERR_INTERNAL;
	}
	if (c->jti[0] != '\0')
		memcpy(jti, c->jti, sizeof(jti));
	else if (rnd_uuid(jti) != USHER_OK)
		return USHER_ERR_INTERNAL;
	if (jwt_new(&jwt) != 0 ||
	    jwt_add_header(jwt, "kid", k->kid) != 0 ||
	    jwt_add_header(jwt, "typ", "JWT") != 0 ||
	    !add_grants(jwt, iss, aud, c, jti) ||
	    jwt_set_alg(jwt, tok_jwt_alg[k->alg], k->sign, (int)k->signlen) != 0 ||
	    (s = jwt_encode_str(jwt)) == NULL) {
		log_error("libjwt failed to sign");
		goto out;
	}
	if (strlen(s) > LIM_JWT_LEN) {
		log_error("signed token longer than %d bytes", LIM_JWT_LEN);
		goto out;
	}
	*out = xstrdup(s);
	rc = USHER_OK;
out:
	free(s);
	jwt_free(jwt);
	return rc;
}

static int
is_b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Compact serialisation (RFC 7515 section 7.1): exactly three non-empty
 * base64url parts. Sets the lengths of the first two.
 */
static int
split_token(const char *t, size_t len, size_t *hlen, size_t *plen)
{
	size_t	i, dots = 0, start = 0, part[3];

	for (i = 0; i <= len; i++) {
		if (i < len && is_b64url_char(t[i]))
			continue;
		if ((i < len && t[i] != '.') || dots == 3 || i == start)
			return 0;
		part[dots++] = i - start;
		start = i + 1;
	}
	if (dots != 3)
		return 0;
	*hlen = part[0];
	*plen = part[1];
	return 1;
}

/* Decode one base64url part and parse it strictly as a JSON object. */
static struct json_object *
part_json(const char *s, size_t len)
{
	char			 enc[LIM_JWT_LEN + 1];
	unsigned char		 dec[LIM_JWT_LEN];
	struct json_object	*obj = NULL;
	size_t			 n;

	memcpy(enc, s, len);
	enc[len] = '\0';
	if (!b64url_decode(enc, dec, sizeof(dec), &n) ||
	    json_parse_strict((const char *)dec, n, &obj) != USHER_OK)
		return NULL;
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/* The string member `key`, or NULL when absent or not a string. */
static const char *
get_str(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* 1 if `key` is an integer member (copied to *out), 0 if absent, -1 bad. */
static int
get_int(struct json_object *obj, const char *key, int64_t *out)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	*out = json_object_get_int64(v);
	return 1;
}

/* Header: only alg, kid and typ; alg and kid strings; typ "JWT" if there. */
static const struct tok_key *
header_key(const struct tok_keyset *ks, struct json_object *head)
{
	const struct tok_key	*k;
	const char		*alg, *kid, *typ;
	size_t			 i, known = 0;

	for (i = 0; i < TOK_NHEADER; i++)
		if (json_object_object_get_ex(head, tok_header_members[i], NULL))
			known++;
	if ((size_t)json_object_object_length(head) != known)
		return NULL;
	alg = get_str(head, "alg");
	kid = get_str(head, "kid");
	if (alg == NULL || kid == NULL)
		return NULL;
	if (json_object_object_get_ex(head, "typ", NULL) &&
	    ((typ = get_str(head, "typ")) == NULL || strcmp(typ, "JWT") != 0))
		return NULL;
	if ((k = key_find(ks, kid)) == NULL)
		return NULL;
	/* Pin the algorithm to the key, byte for byte: no "none", no "es256". */
	if (strcmp(alg, tok_alg_names[k->alg]) != 0)
		return NULL;
	return k;
}

/* Copy a string claim that must be a canonical UUID into out[37]. */
static int
get_uuid(struct json_object *obj, const char *key, char out[37])
{
	const char	*s;

	if ((s = get_str(obj, key)) == NULL || !valid_uuid(s))
		return 0;
	memcpy(out, s, 37);
	return 1;
}

/* iss and aud exactly ours; sub, sid and jti UUIDs; a known role; email. */
static int
claims_ids(struct json_object *p, const char *iss, const char *aud,
    struct tok_claims *out)
{
	const char		*s;
	struct json_object	*v;
	size_t			 len;

	if ((s = get_str(p, "iss")) == NULL || strcmp(s, iss) != 0)
		return 0;
	if ((s = get_str(p, "aud")) == NULL || strcmp(s, aud) != 0)
		return 0;
	if (!get_uuid(p, "sub", out->sub) || !get_uuid(p, "sid", out->sid) ||
	    !get_uuid(p, "jti", out->jti))
		return 0;
	if ((s = get_str(p, "role")) == NULL || !valid_role_name(s))
		return 0;
	memcpy(out->role, s, strlen(s) + 1);
	/* email: absent, null or "" for guests. */
	if (!json_object_object_get_ex(p, "email", &v) ||
	    json_object_is_type(v, json_type_null))
		return 1;
	if ((s = get_str(p, "email")) == NULL ||
	    (len = strlen(s)) > LIM_EMAIL)
		return 0;
	memcpy(out->email, s, len + 1);
	return 1;
}

/*
 * RFC 7519 section 4.1: exp after now; iat and nbf (if any) not after
 * now + LIM_JWT_LEEWAY; and no lifetime longer than we ever issue.
 */
static int
claims_times(struct json_object *p, int64_t now, struct tok_claims *out)
{
	int64_t	nbf;
	int	r;

	if (get_int(p, "exp", &out->exp) != 1 || get_int(p, "iat", &out->iat)
	    != 1)
		return 0;
	if (out->exp <= now || out->iat > now + LIM_JWT_LEEWAY ||
	    out->exp <= out->iat || out->exp - out->iat > LIM_ACCESS_TTL_MAX)
		return 0;
	if ((r = get_int(p, "nbf", &nbf)) < 0 ||
	    (r == 1 && nbf > now + LIM_JWT_LEEWAY))
		return 0;
	return 1;
}

/*
 * The signature, through libjwt with the key's own material. First its
 * encoding: canonical base64url of exactly the key's signature size (libjwt
 * would ignore stray bits, making one token many). jwt_decode takes alg
 * from the header (already pinned by header_key) and compares names
 * without regard to case, so its verdict is checked again here.
 */
static int
signature_ok(const struct tok_key *k, const char *token, const char *sig)
{
	unsigned char	 raw[TOK_SIG_MAX];
	jwt_t		*jwt = NULL;
	size_t		 n;
	int		 good;

	if (!b64url_decode(sig, raw, sizeof(raw), &n) || n != k->siglen)
		return 0;
	if (jwt_decode(&jwt, token, k->verify, (int)k->verifylen) != 0) {
		jwt_free(jwt);
		return 0;
	}
	good = jwt_get_alg(jwt) == tok_jwt_alg[k->alg];
	jwt_free(jwt);
	return good;
}

enum usher_err
tok_verify(const struct tok_keyset *ks, const char *token, const char *iss,
    const char *aud, int64_t now, struct tok_claims *out)
{
	const struct tok_key	*k;
	struct json_object	*head = NULL, *payload = NULL;
	size_t			 len, hlen, plen;
	enum usher_err		 rc = USHER_ERR_BAD_TOKEN;

	memset(out, 0, sizeof(*out));
	if (ks == NULL || token == NULL || iss == NULL || aud == NULL)
		return USHER_ERR_BAD_TOKEN;
	if ((len = strnlen(token, LIM_JWT_LEN + 1)) > LIM_JWT_LEN ||
	    !split_token(token, len, &hlen, &plen))
		return USHER_ERR_BAD_TOKEN;
	if ((head = part_json(token, hlen)) == NULL ||
	    (k = header_key(ks, head)) == NULL)
		goto out;
	if (!signature_ok(k, token, token + hlen + 1 + plen + 1))
		goto out;
	if ((payload = part_json(token + hlen + 1, plen)) == NULL ||
	    !claims_ids(payload, iss, aud, out) ||
	    !claims_times(payload, now, out))
		goto out;
	rc = USHER_OK;
out:
	json_object_put(head);
	json_object_put(payload);
	if (rc != USHER_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

static struct json_object *
key_jwk_json(const struct tok_key *k)
{
	struct json_object	*o;

	o = json_object_new_object();
	if (k->alg == TOK_ES256) {
		json_object_object_add(o, "kty", json_object_new_string("EC"));
		json_object_object_add(o, "crv", json_object_new_string("P-256"));
		json_object_object_add(o, "x", json_object_new_string(k->jwk_a));
		json_object_object_add(o, "y", json_object_new_string(k->jwk_b));
	} else {
		json_object_object_add(o, "kty", json_object_new_string("RSA"));
		json_object_object_add(o, "n", json_object_new_string(k->jwk_a));
		json_object_object_add(o, "e", json_object_new_string(k->jwk_b));
	}
	json_object_object_add(o, "use", json_object_new_string("sig"));
	json_object_object_add(o, "alg",
	    json_object_new_string(tok_alg_names[k->alg]));
	json_object_object_add(o, "kid", json_object_new_string(k->kid));
	return o;
}

/* {"keys":[...]}, newest key first; the caller puts the object. */
struct json_object *
tok_jwks(const struct tok_keyset *ks)
{
	struct json_object	*root, *keys;
	size_t			 i;

	root = json_object_new_object();
	keys = json_object_new_array();
	for (i = tok_keyset_count(ks); i > 0; i--)
		if (ks->key[i - 1].alg != TOK_HS256)
			json_object_array_add(keys, key_jwk_json(&ks->key[i - 1]));
	json_object_object_add(root, "keys", keys);
	return root;
}
