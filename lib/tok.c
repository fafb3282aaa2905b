/* tok.c -- access tokens: compact JWS signing, pinned verification, JWKS */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "json.h"
#include "log.h"
#include "rnd.h"
#include "tok.h"
#include "valid.h"
#include "xmalloc.h"

/*
 * Why not libjwt: version 1.10 takes keys as PEM and parses them on every
 * call, and OpenSSL 3 spends about 330 us per PEM parse, several times the
 * signature itself (ES256 verify 64 us, RS256 20 us with a parsed key).
 * It also takes the algorithm from the token. So keys are parsed once,
 * when added, and the algorithm always comes from the key: a token only
 * says which key (kid), and its alg must name that key's algorithm
 * exactly. The unit tests check interoperability against libjwt.
 */

#define TOK_KID_MAX	64		/* kid: 1..64 of [A-Za-z0-9._-] */
#define TOK_PEM_MAX	(16 * 1024)	/* key material accepted by _add */
#define TOK_RSA_BITS	2048		/* generated, and the least accepted */
#define TOK_HS_GEN	48		/* random bytes of a generated secret */
#define TOK_SIG_MAX	1024		/* signature bytes (RSA 8192) */
#define TOK_ES_DER_MAX	80		/* DER ECDSA-Sig-Value on P-256 */

struct tok_key {
	char		 kid[TOK_KID_MAX + 1];
	enum tok_alg	 alg;
	int		 can_sign;
	EVP_PKEY	*pkey;		/* ES/RS: private only if can_sign */
	unsigned char	*secret;	/* HS256 */
	size_t		 secretlen;
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

/* The roles of the contract (user.h has the enum; tok sits below it). */
static const char *const tok_roles[] = {
	"guest", "user", "moderator", "admin"
};

/* Header members we issue; anything else (crit, jku, x5u, ...) is refused. */
static const char *const tok_header_members[] = { "alg", "kid", "typ" };
#define TOK_NHEADER \
	(sizeof(tok_header_members) / sizeof(tok_header_members[0]))

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

static void
key_clear(struct tok_key *k)
{
	EVP_PKEY_free(k->pkey);		/* clears private components */
	if (k->secret != NULL) {
		explicit_bzero(k->secret, k->secretlen);
		free(k->secret);
	}
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

/* What a memory BIO holds, as a new NUL-terminated string. */
static char *
bio_string(BIO *b)
{
	char	*data;
	long	 len;

	len = BIO_get_mem_data(b, &data);
	if (len <= 0)
		return NULL;
	return xstrndup(data, (size_t)len);
}

/* The PEM of pkey's public half (SubjectPublicKeyInfo). */
static char *
pem_public(EVP_PKEY *pkey)
{
	char	*out = NULL;
	BIO	*b;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (PEM_write_bio_PUBKEY(b, pkey) == 1)
		out = bio_string(b);
	BIO_free(b);
	return out;
}

/* The PEM of pkey's private half (unencrypted PKCS#8). */
static char *
pem_private(EVP_PKEY *pkey)
{
	char	*out = NULL;
	BIO	*b;

	if ((b = BIO_new(BIO_s_secmem())) == NULL)
		return NULL;
	if (PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL) == 1)
		out = bio_string(b);
	BIO_free(b);	/* the buffer is cleared as it is freed */
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

/* A key holding only the public half of pkey. */
static EVP_PKEY *
public_only(EVP_PKEY *pkey)
{
	unsigned char		*der = NULL;
	const unsigned char	*p;
	EVP_PKEY		*pub;
	int			 len;

	if ((len = i2d_PUBKEY(pkey, &der)) <= 0)
		return NULL;
	p = der;
	pub = d2i_PUBKEY(NULL, &p, len);
	OPENSSL_free(der);
	return pub;
}

/* ES256 needs an EC key on P-256, RS256 an RSA key of >= 2048 bits. */
static int
pkey_fits(EVP_PKEY *pkey, enum tok_alg alg)
{
	char	group[64];

	if (alg == TOK_RS256)
		return EVP_PKEY_is_a(pkey, "RSA") &&
		    EVP_PKEY_get_bits(pkey) >= TOK_RSA_BITS &&
		    EVP_PKEY_get_size(pkey) <= TOK_SIG_MAX;
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
	unsigned char	 buf[TOK_SIG_MAX];
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
key_jwk(struct tok_key *k)
{
	if (k->alg == TOK_ES256) {
		k->jwk_a = bn_b64url(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		k->jwk_b = bn_b64url(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
	} else {
		k->jwk_a = bn_b64url(k->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
		k->jwk_b = bn_b64url(k->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
	}
	return k->jwk_a != NULL && k->jwk_b != NULL;
}

/*
 * Parse an ES256/RS256 key once. A verify-only key keeps no private part,
 * even when given a private PEM.
 */
static enum usher_err
key_load_pk(struct tok_key *k, const char *pem, size_t len, int can_sign)
{
	EVP_PKEY	*priv;

	k->pkey = pem_read(pem, len, can_sign);
	if (k->pkey == NULL && !can_sign &&
	    (priv = pem_read(pem, len, 1)) != NULL) {
		k->pkey = public_only(priv);
		EVP_PKEY_free(priv);
	}
	if (k->pkey == NULL) {
		log_error("key %s: not a %s PEM key", k->kid,
		    can_sign ? "private" : "public");
		return USHER_ERR_CONFIG;
	}
	if (!pkey_fits(k->pkey, k->alg)) {
		log_error("key %s: not a key for %s", k->kid,
		    tok_alg_names[k->alg]);
		return USHER_ERR_CONFIG;
	}
	/* ES256 signatures are R || S (RFC 7518 section 3.4), not DER. */
	k->siglen = k->alg == TOK_ES256 ? 64 :
	    (size_t)EVP_PKEY_get_size(k->pkey);
	if (!key_jwk(k)) {
		log_error("key %s: cannot export the public key", k->kid);
		return USHER_ERR_INTERNAL;
	}
	return USHER_OK;
}

static enum usher_err
key_load_hs(struct tok_key *k, const char *secret, size_t len)
{
	if (len < LIM_HS256_SECRET_MIN) {
		log_error("key %s: HS256 secret shorter than %d bytes", k->kid,
		    LIM_HS256_SECRET_MIN);
		return USHER_ERR_CONFIG;
	}
	k->secret = xmalloc(len);
	memcpy(k->secret, secret, len);
	k->secretlen = len;
	k->siglen = 32;
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
	k->can_sign = can_sign != 0;
	if (alg == TOK_HS256)
		rc = key_load_hs(k, pem, pemlen);
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
	*priv_pem = pem_private(pkey);
	*pub_pem = pem_public(pkey);
	EVP_PKEY_free(pkey);
	if (*priv_pem == NULL || *pub_pem == NULL) {
		log_error("cannot write the %s key as PEM", tok_alg_names[alg]);
		if (*priv_pem != NULL)
			explicit_bzero(*priv_pem, strlen(*priv_pem));
		free(*priv_pem);
		free(*pub_pem);
		*priv_pem = *pub_pem = NULL;
		return USHER_ERR_INTERNAL;
	}
	return USHER_OK;
}

/* ECDSA DER (what EVP produces) to R || S, 32 bytes each. */
static int
es_der_to_raw(const unsigned char *der, size_t len, unsigned char raw[64])
{
	const unsigned char	*p = der;
	const BIGNUM		*r, *s;
	ECDSA_SIG		*sig;
	int			 good;

	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return 0;
	ECDSA_SIG_get0(sig, &r, &s);
	good = BN_bn2binpad(r, raw, 32) == 32 &&
	    BN_bn2binpad(s, raw + 32, 32) == 32;
	ECDSA_SIG_free(sig);
	return good;
}

/* R || S to DER, for EVP; der holds TOK_ES_DER_MAX bytes. */
static int
es_raw_to_der(const unsigned char raw[64], unsigned char *der, size_t *len)
{
	ECDSA_SIG	*sig;
	BIGNUM		*r, *s;
	unsigned char	*p = der;
	int		 n = 0;

	r = BN_bin2bn(raw, 32, NULL);
	s = BN_bin2bn(raw + 32, 32, NULL);
	if ((sig = ECDSA_SIG_new()) == NULL || r == NULL || s == NULL ||
	    ECDSA_SIG_set0(sig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return 0;
	}
	if (i2d_ECDSA_SIG(sig, NULL) <= TOK_ES_DER_MAX)
		n = i2d_ECDSA_SIG(sig, &p);
	ECDSA_SIG_free(sig);
	*len = n > 0 ? (size_t)n : 0;
	return n > 0;
}

/* Sign in[0..len) with key k into sig (k->siglen bytes). */
static int
sig_create(const struct tok_key *k, const char *in, size_t len,
    unsigned char *sig)
{
	unsigned char	 der[TOK_SIG_MAX];
	unsigned int	 maclen = 0;
	size_t		 derlen = sizeof(der);
	EVP_MD_CTX	*md;
	int		 good;

	if (k->alg == TOK_HS256)
		return HMAC(EVP_sha256(), k->secret, (int)k->secretlen,
		    (const unsigned char *)in, len, sig, &maclen) != NULL &&
		    maclen == 32;
	if ((md = EVP_MD_CTX_new()) == NULL)
		return 0;
	good = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
	    EVP_DigestSign(md, der, &derlen, (const unsigned char *)in,
	    len) == 1;
	EVP_MD_CTX_free(md);
	if (!good)
		return 0;
	if (k->alg == TOK_ES256)
		return es_der_to_raw(der, derlen, sig);
	if (derlen != k->siglen)
		return 0;
	memcpy(sig, der, derlen);
	return 1;
}

/* Check sig (k->siglen bytes) over in[0..len) with key k. */
static int
sig_check(const struct tok_key *k, const char *in, size_t len,
    const unsigned char *sig)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE], der[TOK_ES_DER_MAX];
	unsigned int	 maclen = 0;
	size_t		 derlen = k->siglen;
	const unsigned char *s = sig;
	EVP_MD_CTX	*md;
	int		 good;

	if (k->alg == TOK_HS256) {
		good = HMAC(EVP_sha256(), k->secret, (int)k->secretlen,
		    (const unsigned char *)in, len, mac, &maclen) != NULL &&
		    maclen == 32 && ct_equal(mac, sig, 32);
		explicit_bzero(mac, sizeof(mac));
		return good;
	}
	if (k->alg == TOK_ES256) {
		if (!es_raw_to_der(sig, der, &derlen))
			return 0;
		s = der;
	}
	if ((md = EVP_MD_CTX_new()) == NULL)
		return 0;
	good = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k->pkey) ==
	    1 && EVP_DigestVerify(md, s, derlen, (const unsigned char *)in,
	    len) == 1;
	EVP_MD_CTX_free(md);
	return good;
}

static const struct tok_key *
key_signer(const struct tok_keyset *ks)
{
	size_t	i;

	for (i = ks->n; i > 0; i--)
		if (ks->key[i - 1].can_sign)
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
	    c->iat >= 0 && c->exp > c->iat &&
	    c->exp - c->iat <= LIM_ACCESS_TTL_MAX;
}

static void
add_str(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

/* base64url of the compact JSON text of o; o is put. Caller frees. */
static char *
part_encode(struct json_object *o)
{
	const char	*s;
	char		*out;

	s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	out = s == NULL ? NULL : b64url_encode(s, strlen(s));
	json_object_put(o);
	return out;
}

static char *
header_encode(const struct tok_key *k)
{
	struct json_object	*h;

	h = json_object_new_object();
	add_str(h, "alg", tok_alg_names[k->alg]);
	add_str(h, "kid", k->kid);
	add_str(h, "typ", "JWT");
	return part_encode(h);
}

static char *
payload_encode(const char *iss, const char *aud, const struct tok_claims *c,
    const char *jti)
{
	struct json_object	*p;

	p = json_object_new_object();
	add_str(p, "iss", iss);
	add_str(p, "aud", aud);
	add_str(p, "sub", c->sub);
	add_str(p, "sid", c->sid);
	add_str(p, "role", c->role);
	if (c->email[0] != '\0')
		add_str(p, "email", c->email);
	json_object_object_add(p, "iat", json_object_new_int64(c->iat));
	json_object_object_add(p, "exp", json_object_new_int64(c->exp));
	add_str(p, "jti", jti);
	return part_encode(p);
}

/*
 * Sign the claims with the newest key that may sign (RFC 7515 compact
 * serialisation): header alg, kid and typ "JWT"; claims iss, aud, sub,
 * sid, role, email (left out when empty, for guests), iat, exp and jti (a
 * new UUID when c->jti is empty). The caller frees *out.
 */
enum usher_err
tok_sign(const struct tok_keyset *ks, const char *iss, const char *aud,
    const struct tok_claims *c, char **out)
{
	const struct tok_key	*k;
	unsigned char		 sig[TOK_SIG_MAX];
	char			 jti[37];
	char			*h = NULL, *p = NULL, *in = NULL, *s = NULL;
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
	if ((h = header_encode(k)) == NULL ||
	    (p = payload_encode(iss, aud, c, jti)) == NULL)
		goto out;
	in = xasprintf("%s.%s", h, p);
	if (!sig_create(k, in, strlen(in), sig)) {
		log_error("key %s: signing failed", k->kid);
		goto out;
	}
	s = b64url_encode(sig, k->siglen);
	*out = xasprintf("%s.%s", in, s);
	if (strlen(*out) > LIM_JWT_LEN) {
		log_error("signed token longer than %d bytes", LIM_JWT_LEN);
		free(*out);
		*out = NULL;
		goto out;
	}
	rc = USHER_OK;
out:
	free(h);
	free(p);
	free(in);
	free(s);
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
		if (json_object_object_get_ex(head, tok_header_members[i],
		    NULL))
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
	/* Pin alg to the key, byte for byte: no "none", no "es256". */
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
	/* iat >= 0 and exp > iat: the subtraction cannot overflow. */
	if (out->iat < 0 || out->exp <= now || out->iat > now + LIM_JWT_LEEWAY ||
	    out->exp <= out->iat || out->exp - out->iat > LIM_ACCESS_TTL_MAX)
		return 0;
	if ((r = get_int(p, "nbf", &nbf)) < 0 ||
	    (r == 1 && nbf > now + LIM_JWT_LEEWAY))
		return 0;
	return 1;
}

/*
 * The signature: canonical base64url of exactly the key's signature size
 * (so one token has one encoding), checked over header.payload with the
 * key's own algorithm, whatever the token says.
 */
static int
signature_ok(const struct tok_key *k, const char *token, size_t inlen,
    const char *sig64)
{
	unsigned char	 sig[TOK_SIG_MAX];
	size_t		 n;

	if (!b64url_decode(sig64, sig, sizeof(sig), &n) || n != k->siglen)
		return 0;
	return sig_check(k, token, inlen, sig);
}

/*
 * Order: cheap structural checks, the header (kid, pinned alg), the
 * signature, and only then the claims, so nothing unauthenticated is
 * believed.
 */
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
	if (!signature_ok(k, token, hlen + 1 + plen,
	    token + hlen + 1 + plen + 1))
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
		add_str(o, "kty", "EC");
		add_str(o, "crv", "P-256");
		add_str(o, "x", k->jwk_a);
		add_str(o, "y", k->jwk_b);
	} else {
		add_str(o, "kty", "RSA");
		add_str(o, "n", k->jwk_a);
		add_str(o, "e", k->jwk_b);
	}
	add_str(o, "use", "sig");
	add_str(o, "alg", tok_alg_names[k->alg]);
	add_str(o, "kid", k->kid);
	return o;
}

/* {"keys":[...]}, newest key first; the caller puts the object. */
struct json_object *
tok_jwks(const struct tok_keyset *ks)
{
	const struct tok_key	*k;
	struct json_object	*root, *keys;
	size_t			 i;

	root = json_object_new_object();
	keys = json_object_new_array();
	for (i = tok_keyset_count(ks); i > 0; i--) {
		k = &ks->key[i - 1];
		if (k->alg != TOK_HS256)
			json_object_array_add(keys, key_jwk_json(k));
	}
	json_object_object_add(root, "keys", keys);
	return root;
}
