/* t_tok.c -- unit tests of lib/tok.c: JWT signing, pinned verification, JWKS */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "rnd.h"
#include "tap.h"
#include "tok.h"
#include "xmalloc.h"

#define NOW	1700000000LL
#define ISS	"https://usher.test"
#define AUD	"usher-clients"
#define SUB	"0b5e1f6c-6a4f-4d1e-9d6c-2b1f1c0a9e01"
#define SID	"7d2c4b1a-3e5f-4a6b-8c7d-9e0f1a2b3c4d"
#define JTI	"c0ffee00-1234-4567-89ab-cdef01234567"
#define HSKEY	"an HS256 secret of at least thirty-two bytes"

/* Claims as JSON text, to assemble hand-made payloads. */
#define C_ISS	"\"iss\":\"" ISS "\""
#define C_AUD	"\"aud\":\"" AUD "\""
#define C_SUB	"\"sub\":\"" SUB "\""
#define C_SID	"\"sid\":\"" SID "\""
#define C_JTI	"\"jti\":\"" JTI "\""
#define C_ROLE	"\"role\":\"user\""
#define C_EMAIL	"\"email\":\"a@example.org\""
#define C_IAT	"\"iat\":1700000000"
#define C_EXP	"\"exp\":1700000900"
#define C_IDS	C_ISS "," C_AUD "," C_SUB "," C_SID "," C_JTI "," C_ROLE
#define C_ALL	C_IDS "," C_EMAIL "," C_IAT "," C_EXP

#define H_ES	"{\"alg\":\"ES256\",\"kid\":\"es1\",\"typ\":\"JWT\"}"
#define H_HS	"{\"alg\":\"HS256\",\"kid\":\"hs1\",\"typ\":\"JWT\"}"
#define H_HS12	"{\"alg\":\"HS256\",\"kid\":\"hs12\",\"typ\":\"JWT\"}"

enum how { SIG_EMPTY, SIG_JUNK, SIG_HS, SIG_ES };

static char	*es_priv, *es_pub, *rs_priv, *rs_pub;
static char	*es2_priv, *es2_pub;

/* base64url(h) "." base64url(p) "." signature, made without tok.c. */
static char *
craft(const char *h, const char *p, enum how how, const void *key,
    size_t keylen)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE], der[128], raw[64];
	const unsigned char *dp = der;
	unsigned int	 maclen = 0;
	size_t		 derlen = sizeof(der);
	char		*hb, *pb, *input, *sig = NULL, *out;
	ECDSA_SIG	*es;
	EVP_MD_CTX	*md;
	const BIGNUM	*r, *s;

	hb = b64url_encode(h, strlen(h));
	pb = b64url_encode(p, strlen(p));
	input = xasprintf("%s.%s", hb, pb);
	switch (how) {
	case SIG_EMPTY:
		sig = xstrdup("");
		break;
	case SIG_JUNK:
		sig = xstrdup("AAAA");
		break;
	case SIG_HS:
		HMAC(EVP_sha256(), key, (int)keylen,
		    (const unsigned char *)input, strlen(input), mac, &maclen);
		sig = b64url_encode(mac, maclen);
		break;
	case SIG_ES:
		md = EVP_MD_CTX_new();
		if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
		    (EVP_PKEY *)key) != 1 || EVP_DigestSign(md, der, &derlen,
		    (const unsigned char *)input, strlen(input)) != 1)
			bail_out("EVP_DigestSign");
		EVP_MD_CTX_free(md);
		if ((es = d2i_ECDSA_SIG(NULL, &dp, (long)derlen)) == NULL)
			bail_out("d2i_ECDSA_SIG");
		ECDSA_SIG_get0(es, &r, &s);
		BN_bn2binpad(r, raw, 32);
		BN_bn2binpad(s, raw + 32, 32);
		ECDSA_SIG_free(es);
		sig = b64url_encode(raw, sizeof(raw));
		break;
	}
	out = xasprintf("%s.%s", input, sig);
	free(hb);
	free(pb);
	free(input);
	free(sig);
	return out;
}

static EVP_PKEY *
read_priv(const char *pem)
{
	EVP_PKEY	*k;
	BIO		*b;

	b = BIO_new_mem_buf(pem, -1);
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k == NULL)
		bail_out("PEM_read_bio_PrivateKey");
	return k;
}

static void
claims_fill(struct tok_claims *c, const char *role, const char *email)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->sub, sizeof(c->sub), "%s", SUB);
	snprintf(c->sid, sizeof(c->sid), "%s", SID);
	snprintf(c->role, sizeof(c->role), "%s", role);
	snprintf(c->email, sizeof(c->email), "%s", email);
	c->iat = NOW;
	c->exp = NOW + 900;
}

static enum usher_err
verify(const struct tok_keyset *ks, const char *t)
{
	struct tok_claims	c;

	return tok_verify(ks, t, ISS, AUD, NOW, &c);
}

/* The decoded header of a compact token, as text (caller frees). */
static char *
header_of(const char *t)
{
	unsigned char	 buf[512];
	char		 enc[700];
	size_t		 n;
	const char	*dot;

	if ((dot = strchr(t, '.')) == NULL || (size_t)(dot - t) >= sizeof(enc))
		return xstrdup("");
	memcpy(enc, t, (size_t)(dot - t));
	enc[dot - t] = '\0';
	if (!b64url_decode(enc, buf, sizeof(buf) - 1, &n))
		return xstrdup("");
	buf[n] = '\0';
	return xstrdup((char *)buf);
}

static void
test_keys(void)
{
	ok(tok_key_generate(TOK_ES256, &es_priv, &es_pub) == USHER_OK &&
	    strstr(es_priv, "-----BEGIN PRIVATE KEY-----") == es_priv &&
	    strstr(es_pub, "-----BEGIN PUBLIC KEY-----") == es_pub,
	    "generate ES256 (PKCS#8 and SPKI PEM)");
	ok(tok_key_generate(TOK_ES256, &es2_priv, &es2_pub) == USHER_OK,
	    "generate a second ES256 key");
	ok(tok_key_generate(TOK_RS256, &rs_priv, &rs_pub) == USHER_OK,
	    "generate RS256");
	ok(tok_alg_parse("ES256") == TOK_ES256 &&
	    tok_alg_parse("RS256") == TOK_RS256 &&
	    tok_alg_parse("HS256") == TOK_HS256, "tok_alg_parse");
	ok(tok_alg_parse("es256") == TOK__MAX &&
	    tok_alg_parse("none") == TOK__MAX &&
	    tok_alg_parse("") == TOK__MAX && tok_alg_parse(NULL) == TOK__MAX,
	    "tok_alg_parse is exact");
	ok(strcmp(tok_alg_name(TOK_RS256), "RS256") == 0, "tok_alg_name");
}

static void
test_keyset_add(void)
{
	struct tok_keyset	*ks;
	char			 kid[8], longkid[66];
	size_t			 i;
	int			 all = 1;

	memset(longkid, 'k', 65);
	longkid[65] = '\0';
	ks = tok_keyset_new();
	ok(tok_keyset_count(ks) == 0, "new key set is empty");
	ok(tok_keyset_add(ks, "", TOK_HS256, HSKEY, strlen(HSKEY), 1) ==
	    USHER_ERR_CONFIG, "empty kid refused");
	ok(tok_keyset_add(ks, "a b", TOK_HS256, HSKEY, strlen(HSKEY), 1) ==
	    USHER_ERR_CONFIG, "kid with a space refused");
	ok(tok_keyset_add(ks, longkid, TOK_HS256, HSKEY, strlen(HSKEY), 1) ==
	    USHER_ERR_CONFIG, "65-byte kid refused");
	ok(tok_keyset_add(ks, "hs", TOK_HS256, HSKEY, 31, 1) ==
	    USHER_ERR_CONFIG, "31-byte HS256 secret refused");
	ok(tok_keyset_add(ks, "es", TOK_RS256, es_priv, strlen(es_priv), 1) ==
	    USHER_ERR_CONFIG, "EC key as RS256 refused");
	ok(tok_keyset_add(ks, "rs", TOK_ES256, rs_pub, strlen(rs_pub), 0) ==
	    USHER_ERR_CONFIG, "RSA key as ES256 refused");
	ok(tok_keyset_add(ks, "es", TOK_ES256, es_pub, strlen(es_pub), 1) ==
	    USHER_ERR_CONFIG, "public key cannot sign");
	ok(tok_keyset_add(ks, "es", TOK_ES256, "garbage", 7, 0) ==
	    USHER_ERR_CONFIG, "garbage PEM refused");
	ok(tok_keyset_add(ks, "es", TOK__MAX, es_pub, strlen(es_pub), 0) ==
	    USHER_ERR_CONFIG, "unknown algorithm refused");
	ok(tok_keyset_count(ks) == 0, "nothing added by failures");
	ok(tok_keyset_add(ks, "es", TOK_ES256, es_pub, strlen(es_pub), 0) ==
	    USHER_OK, "public ES256 key, verify only");
	ok(tok_keyset_add(ks, "es", TOK_HS256, HSKEY, strlen(HSKEY), 1) ==
	    USHER_ERR_CONFIG, "duplicate kid refused");
	for (i = 1; i < LIM_KEYS; i++) {
		snprintf(kid, sizeof(kid), "k%zu", i);
		if (tok_keyset_add(ks, kid, TOK_HS256, HSKEY, strlen(HSKEY),
		    1) != USHER_OK)
			all = 0;
	}
	ok(all && tok_keyset_count(ks) == LIM_KEYS, "%d keys fit", LIM_KEYS);
	ok(tok_keyset_add(ks, "one-more", TOK_HS256, HSKEY, strlen(HSKEY),
	    1) == USHER_ERR_CONFIG, "key %d refused", LIM_KEYS + 1);
	tok_keyset_free(ks);
	tok_keyset_free(NULL);
}

static const jwt_alg_t jwt_algs[TOK__MAX] = {
	[TOK_ES256] = JWT_ALG_ES256,
	[TOK_RS256] = JWT_ALG_RS256,
	[TOK_HS256] = JWT_ALG_HS256,
};

/* libjwt, as an independent implementation, reads our tokens... */
static int
libjwt_reads(enum tok_alg alg, const char *t, const char *pub)
{
	jwt_t	*jwt = NULL;
	int	 good;

	good = jwt_decode(&jwt, t, (const unsigned char *)pub,
	    (int)strlen(pub)) == 0 && jwt_get_alg(jwt) == jwt_algs[alg] &&
	    jwt_get_grant(jwt, "sub") != NULL &&
	    strcmp(jwt_get_grant(jwt, "sub"), SUB) == 0 &&
	    jwt_get_grant_int(jwt, "exp") == NOW + 900;
	jwt_free(jwt);
	return good;
}

/* ... and we read its tokens. */
static char *
libjwt_writes(enum tok_alg alg, const char *kid, const char *key)
{
	jwt_t	*jwt = NULL;
	char	*t = NULL, *copy;

	if (jwt_new(&jwt) != 0 || jwt_add_header(jwt, "kid", kid) != 0 ||
	    jwt_add_grant(jwt, "iss", ISS) != 0 ||
	    jwt_add_grant(jwt, "aud", AUD) != 0 ||
	    jwt_add_grant(jwt, "sub", SUB) != 0 ||
	    jwt_add_grant(jwt, "sid", SID) != 0 ||
	    jwt_add_grant(jwt, "jti", JTI) != 0 ||
	    jwt_add_grant(jwt, "role", "admin") != 0 ||
	    jwt_add_grant_int(jwt, "iat", NOW) != 0 ||
	    jwt_add_grant_int(jwt, "exp", NOW + 60) != 0 ||
	    jwt_set_alg(jwt, jwt_algs[alg], (const unsigned char *)key,
	    (int)strlen(key)) != 0 || (t = jwt_encode_str(jwt)) == NULL)
		bail_out("libjwt could not sign");
	copy = xstrdup(t);
	free(t);
	jwt_free(jwt);
	return copy;
}

/* Sign and verify with each algorithm; claims come back unchanged. */
static void
test_roundtrip(enum tok_alg alg, const char *key, const char *pub)
{
	struct tok_keyset	*ks;
	struct tok_claims	 c, got;
	char			*t = NULL, *h;
	const char		*name = tok_alg_name(alg);

	ks = tok_keyset_new();
	ok(tok_keyset_add(ks, "k1", alg, key, strlen(key), 1) == USHER_OK,
	    "%s: key added", name);
	claims_fill(&c, "moderator", "mod@example.org");
	ok(tok_sign(ks, ISS, AUD, &c, &t) == USHER_OK && t != NULL,
	    "%s: tok_sign", name);
	h = header_of(t);
	ok(strstr(h, "\"kid\":\"k1\"") != NULL &&
	    strstr(h, "\"typ\":\"JWT\"") != NULL && strstr(h, name) != NULL,
	    "%s: header %s", name, h);
	free(h);
	ok(tok_verify(ks, t, ISS, AUD, NOW, &got) == USHER_OK,
	    "%s: tok_verify", name);
	ok(strcmp(got.sub, SUB) == 0 && strcmp(got.sid, SID) == 0 &&
	    strcmp(got.role, "moderator") == 0 &&
	    strcmp(got.email, "mod@example.org") == 0 && got.iat == NOW &&
	    got.exp == NOW + 900 && strlen(got.jti) == 36,
	    "%s: claims round trip, jti generated (%s)", name, got.jti);
	ok(libjwt_reads(alg, t, pub), "%s: libjwt verifies our token", name);
	ok(tok_verify(ks, t, ISS, AUD, NOW + 899, &got) == USHER_OK &&
	    tok_verify(ks, t, ISS, AUD, NOW + 900, &got) ==
	    USHER_ERR_BAD_TOKEN && got.sub[0] == '\0',
	    "%s: valid until exp, then refused and claims cleared", name);
	free(t);

	claims_fill(&c, "guest", "");
	snprintf(c.jti, sizeof(c.jti), "%s", JTI);
	ok(tok_sign(ks, ISS, AUD, &c, &t) == USHER_OK &&
	    tok_verify(ks, t, ISS, AUD, NOW, &got) == USHER_OK &&
	    strcmp(got.jti, JTI) == 0 && got.email[0] == '\0' &&
	    strcmp(got.role, "guest") == 0,
	    "%s: guest without email, given jti kept", name);
	free(t);

	t = libjwt_writes(alg, "k1", key);
	ok(tok_verify(ks, t, ISS, AUD, NOW, &got) == USHER_OK &&
	    strcmp(got.role, "admin") == 0, "%s: we verify libjwt's token",
	    name);
	free(t);
	tok_keyset_free(ks);
}

static void
test_sign_refusals(void)
{
	struct tok_keyset	*ks;
	struct tok_claims	 c;
	char			*t = NULL;

	ks = tok_keyset_new();
	tok_keyset_add(ks, "pub", TOK_ES256, es_pub, strlen(es_pub), 0);
	tok_keyset_add(ks, "priv-verify-only", TOK_ES256, es2_priv,
	    strlen(es2_priv), 0);
	claims_fill(&c, "user", "a@example.org");
	ok(tok_keyset_count(ks) == 2, "private PEM accepted as verify-only");
	ok(tok_sign(ks, ISS, AUD, &c, &t) == USHER_ERR_INTERNAL && t == NULL,
	    "no key that may sign: refused");
	tok_keyset_add(ks, "hs", TOK_HS256, HSKEY, strlen(HSKEY), 1);
	snprintf(c.sub, sizeof(c.sub), "%s", "not-a-uuid");
	ok(tok_sign(ks, ISS, AUD, &c, &t) == USHER_ERR_INTERNAL,
	    "sub not a UUID: refused");
	claims_fill(&c, "root", "a@example.org");
	ok(tok_sign(ks, ISS, AUD, &c, &t) == USHER_ERR_INTERNAL,
	    "unknown role: refused");
	claims_fill(&c, "user", "a@example.org");
	c.exp = c.iat;
	ok(tok_sign(ks, ISS, AUD, &c, &t) == USHER_ERR_INTERNAL,
	    "exp not after iat: refused");
	claims_fill(&c, "user", "a@example.org");
	ok(tok_sign(ks, ISS, AUD, &c, &t) == USHER_OK, "then it signs");
	free(t);
	tok_keyset_free(ks);
}

/*
 * Claims, on tokens signed by hand with the HS256 key so that only the
 * claim checks can refuse them.
 */
static void
test_claims(void)
{
	static const struct {
		int		 line;
		const char	*payload;
		enum usher_err	 want;
	} t[] = {
		{ __LINE__, "{" C_ALL "}", USHER_OK },
		{ __LINE__, "{" C_IDS "," C_IAT "," C_EXP "}", USHER_OK },
		{ __LINE__, "{" C_IDS ",\"email\":null," C_IAT "," C_EXP "}",
		  USHER_OK },
		{ __LINE__, "{" C_ALL ",\"nbf\":1700000000}", USHER_OK },
		{ __LINE__, "{" C_ALL ",\"extra\":[1,{\"a\":2}]}", USHER_OK },
		/* expiry */
		{ __LINE__, "{" C_IDS ",\"iat\":1699999000,\"exp\":1699999999}",
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_IDS ",\"iat\":1699999000,\"exp\":1700000000}",
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_IDS ",\"iat\":1699999000,\"exp\":1700000001}",
		  USHER_OK },
		/* iat and nbf in the future, beyond the leeway of 30 s */
		{ __LINE__, "{" C_IDS ",\"iat\":1700000030,\"exp\":1700000900}",
		  USHER_OK },
		{ __LINE__, "{" C_IDS ",\"iat\":1700000031,\"exp\":1700000900}",
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ALL ",\"nbf\":1700000030}", USHER_OK },
		{ __LINE__, "{" C_ALL ",\"nbf\":1700000031}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ALL ",\"nbf\":\"1700000000\"}",
		  USHER_ERR_BAD_TOKEN },
		/* lifetimes longer than any we issue */
		{ __LINE__, "{" C_IDS ",\"iat\":1700000000,\"exp\":1700003600}",
		  USHER_OK },
		{ __LINE__, "{" C_IDS ",\"iat\":1700000000,\"exp\":1700003601}",
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_IDS ",\"iat\":1700000000,"
		  "\"exp\":9223372036854775807}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_IDS ",\"iat\":-9223372036854775807,"
		  "\"exp\":9223372036854775807}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_IDS ",\"iat\":-1,\"exp\":1700000900}",
		  USHER_ERR_BAD_TOKEN },
		/* missing claims */
		{ __LINE__, "{" C_IDS "," C_IAT "}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_IDS "," C_EXP "}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_AUD "," C_SUB "," C_SID "," C_JTI "," C_ROLE ","
		  C_IAT "," C_EXP "}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ISS "," C_SUB "," C_SID "," C_JTI "," C_ROLE ","
		  C_IAT "," C_EXP "}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ISS "," C_AUD "," C_SID "," C_JTI "," C_ROLE ","
		  C_IAT "," C_EXP "}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ISS "," C_AUD "," C_SUB "," C_JTI "," C_ROLE ","
		  C_IAT "," C_EXP "}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ISS "," C_AUD "," C_SUB "," C_SID "," C_ROLE ","
		  C_IAT "," C_EXP "}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ISS "," C_AUD "," C_SUB "," C_SID "," C_JTI ","
		  C_IAT "," C_EXP "}", USHER_ERR_BAD_TOKEN },
		/* wrong values and types */
		{ __LINE__, "{\"iss\":\"https://evil.test\"," C_AUD "," C_SUB ","
		  C_SID "," C_JTI "," C_ROLE "," C_IAT "," C_EXP "}",
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ISS ",\"aud\":\"other-clients\"," C_SUB ","
		  C_SID "," C_JTI "," C_ROLE "," C_IAT "," C_EXP "}",
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ISS ",\"aud\":[\"" AUD "\"]," C_SUB ","
		  C_SID "," C_JTI "," C_ROLE "," C_IAT "," C_EXP "}",
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ISS "," C_AUD ",\"sub\":\"12345\"," C_SID ","
		  C_JTI "," C_ROLE "," C_IAT "," C_EXP "}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ISS "," C_AUD ","
		  "\"sub\":\"0B5E1F6C-6A4F-4D1E-9D6C-2B1F1C0A9E01\"," C_SID ","
		  C_JTI "," C_ROLE "," C_IAT "," C_EXP "}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ISS "," C_AUD "," C_SUB ",\"sid\":7," C_JTI ","
		  C_ROLE "," C_IAT "," C_EXP "}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ISS "," C_AUD "," C_SUB "," C_SID "," C_JTI ","
		  "\"role\":\"root\"," C_IAT "," C_EXP "}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ISS "," C_AUD "," C_SUB "," C_SID "," C_JTI ","
		  "\"role\":\"Admin\"," C_IAT "," C_EXP "}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_IDS ",\"iat\":1700000000,\"exp\":\"1700000900\"}",
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_IDS ",\"iat\":1700000000,\"exp\":1700000900.5}",
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_IDS ",\"iat\":true,\"exp\":1700000900}",
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_IDS ",\"email\":42," C_IAT "," C_EXP "}",
		  USHER_ERR_BAD_TOKEN },
		/* not a strict JSON object */
		{ __LINE__, "[" C_ALL "]", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ALL ",}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ALL "} x", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ALL ",\"role\":\"admin\"}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{" C_ALL "/* c */}", USHER_ERR_BAD_TOKEN },
		{ __LINE__, "", USHER_ERR_BAD_TOKEN },
	};
	struct tok_keyset	*ks;
	char			 email[300], payload[600];
	char			*tok;
	size_t			 i;

	ks = tok_keyset_new();
	if (tok_keyset_add(ks, "hs1", TOK_HS256, HSKEY, strlen(HSKEY), 1) !=
	    USHER_OK)
		bail_out("HS256 key");
	for (i = 0; i < nitems(t); i++) {
		tok = craft(H_HS, t[i].payload, SIG_HS, HSKEY, strlen(HSKEY));
		ok_at(t[i].line, verify(ks, tok) == t[i].want, "claims case %zu",
		    i);
		free(tok);
	}

	/* email of LIM_EMAIL bytes passes, one more does not */
	for (i = 254; i <= 255; i++) {
		memset(email, 'e', i);
		memcpy(email + i - 12, "@example.org", 12);
		email[i] = '\0';
		snprintf(payload, sizeof(payload), "{" C_IDS ",\"email\":\"%s\","
		    C_IAT "," C_EXP "}", email);
		tok = craft(H_HS, payload, SIG_HS, HSKEY, strlen(HSKEY));
		ok(verify(ks, tok) == (i == LIM_EMAIL ? USHER_OK :
		    USHER_ERR_BAD_TOKEN), "email of %zu bytes", i);
		free(tok);
	}
	tok_keyset_free(ks);
}

/* Headers: the algorithm is pinned to the key named by kid. */
static void
test_headers(void)
{
	struct tok_keyset	*ks;
	EVP_PKEY		*es, *es2;
	static const struct {
		int		 line;
		const char	*h;
		enum how	 how;
		int		 key;	/* 0 es1, 1 es2, 2 es1's public PEM, */
					/* 3 rs1's public PEM, 4 HS secret, 5 junk */
		enum usher_err	 want;
	} t[] = {
		{ __LINE__, H_ES, SIG_ES, 0, USHER_OK },
		{ __LINE__, "{\"alg\":\"ES256\",\"kid\":\"es1\"}", SIG_ES, 0,
		  USHER_OK },
		{ __LINE__, H_HS, SIG_HS, 4, USHER_OK },
		/* alg none, in any case, signed or not */
		{ __LINE__, "{\"alg\":\"none\",\"kid\":\"es1\",\"typ\":\"JWT\"}",
		  SIG_EMPTY, 0, USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"none\",\"kid\":\"es1\",\"typ\":\"JWT\"}",
		  SIG_JUNK, 0, USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"None\",\"kid\":\"es1\",\"typ\":\"JWT\"}",
		  SIG_EMPTY, 0, USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"NONE\",\"kid\":\"es1\",\"typ\":\"JWT\"}",
		  SIG_JUNK, 0, USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"nOnE\",\"kid\":\"hs1\"}", SIG_EMPTY, 0,
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"none\"}", SIG_EMPTY, 0,
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"none\",\"kid\":\"es1\"}", SIG_ES, 0,
		  USHER_ERR_BAD_TOKEN },
		/* the right key and a valid signature, alg not byte-exact */
		{ __LINE__, "{\"alg\":\"es256\",\"kid\":\"es1\",\"typ\":\"JWT\"}",
		  SIG_ES, 0, USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"Es256\",\"kid\":\"es1\"}", SIG_ES, 0,
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"hs256\",\"kid\":\"hs1\"}", SIG_HS, 4,
		  USHER_ERR_BAD_TOKEN },
		/* algorithm confusion: HMAC keyed with the public key's PEM */
		{ __LINE__, "{\"alg\":\"HS256\",\"kid\":\"es1\",\"typ\":\"JWT\"}",
		  SIG_HS, 2, USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"HS256\",\"kid\":\"rs1\",\"typ\":\"JWT\"}",
		  SIG_HS, 3, USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"HS256\",\"kid\":\"es1\"}", SIG_HS, 4,
		  USHER_ERR_BAD_TOKEN },
		/* wrong or unknown kid */
		{ __LINE__, H_ES, SIG_ES, 1, USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"ES256\",\"kid\":\"rs1\"}", SIG_ES, 0,
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"RS256\",\"kid\":\"es1\"}", SIG_ES, 0,
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"ES256\",\"kid\":\"nope\"}", SIG_ES, 0,
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"ES256\",\"kid\":\"ES1\"}", SIG_ES, 0,
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"ES256\"}", SIG_ES, 0,
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"ES256\",\"kid\":1}", SIG_ES, 0,
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"kid\":\"es1\"}", SIG_ES, 0, USHER_ERR_BAD_TOKEN },
		/* members we do not issue, odd typ, duplicates, not strict */
		{ __LINE__, "{\"alg\":\"ES256\",\"kid\":\"es1\",\"crit\":[\"exp\"],"
		  "\"exp\":1}", SIG_ES, 0, USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"ES256\",\"kid\":\"es1\","
		  "\"jku\":\"https://evil.test/jwks\"}", SIG_ES, 0,
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"ES256\",\"kid\":\"es1\",\"typ\":\"JWS\"}",
		  SIG_ES, 0, USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"ES256\",\"kid\":\"es1\",\"typ\":null}",
		  SIG_ES, 0, USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"ES256\",\"kid\":\"nope\",\"kid\":\"es1\"}",
		  SIG_ES, 0, USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{\"alg\":\"HS256\",\"alg\":\"ES256\",\"kid\":\"es1\"}",
		  SIG_ES, 0, USHER_ERR_BAD_TOKEN },
		{ __LINE__, "{'alg':'ES256','kid':'es1'}", SIG_ES, 0,
		  USHER_ERR_BAD_TOKEN },
		{ __LINE__, "[\"ES256\"]", SIG_ES, 0, USHER_ERR_BAD_TOKEN },
		{ __LINE__, H_ES, SIG_JUNK, 0, USHER_ERR_BAD_TOKEN },
		{ __LINE__, H_HS, SIG_HS, 5, USHER_ERR_BAD_TOKEN },
	};
	const void	*keys[6];
	size_t		 lens[6], i;
	char		*tok;
	jwt_t		*jwt = NULL;

	es = read_priv(es_priv);
	es2 = read_priv(es2_priv);
	keys[0] = es;
	keys[1] = es2;
	keys[2] = es_pub;
	keys[3] = rs_pub;
	keys[4] = HSKEY;
	keys[5] = "another secret of more than 32 bytes, not ours";
	lens[0] = lens[1] = 0;
	for (i = 2; i < 6; i++)
		lens[i] = strlen(keys[i]);

	ks = tok_keyset_new();
	if (tok_keyset_add(ks, "es1", TOK_ES256, es_priv, strlen(es_priv), 1) ||
	    tok_keyset_add(ks, "rs1", TOK_RS256, rs_priv, strlen(rs_priv), 1) ||
	    tok_keyset_add(ks, "hs1", TOK_HS256, HSKEY, strlen(HSKEY), 1))
		bail_out("key set");
	for (i = 0; i < nitems(t); i++) {
		tok = craft(t[i].h, "{" C_ALL "}", t[i].how, keys[t[i].key],
		    lens[t[i].key]);
		ok_at(t[i].line, verify(ks, tok) == t[i].want,
		    "header %s (%s)", t[i].h, t[i].want == USHER_OK ? "good" :
		    "refused");
		free(tok);
	}

	/* The confusion attack is real: libjwt alone accepts the token. */
	tok = craft("{\"alg\":\"HS256\",\"kid\":\"es1\",\"typ\":\"JWT\"}",
	    "{" C_ALL "}", SIG_HS, es_pub, strlen(es_pub));
	diag("libjwt's own jwt_decode with the public PEM as key: %s",
	    jwt_decode(&jwt, tok, (const unsigned char *)es_pub,
	    (int)strlen(es_pub)) == 0 ? "accepted (so tok_verify must pin)" :
	    "refused");
	jwt_free(jwt);
	free(tok);

	EVP_PKEY_free(es);
	EVP_PKEY_free(es2);
	tok_keyset_free(ks);
}

/* Whole-token shape: three parts, base64url, length cap, integrity. */
static void
test_structure(void)
{
	struct tok_keyset	*ks;
	struct tok_claims	 c;
	char			 buf[LIM_JWT_LEN + 64], payload[LIM_JWT_LEN + 512];
	char			*t = NULL, *u, *dot2;
	unsigned char		 raw[128];
	size_t			 len, pad, rawlen, i;
	int			 hit_max = 0, hit_over = 0, good = 1;

	ks = tok_keyset_new();
	if (tok_keyset_add(ks, "es1", TOK_ES256, es_priv, strlen(es_priv), 1) ||
	    tok_keyset_add(ks, "hs1", TOK_HS256, HSKEY, strlen(HSKEY), 0) ||
	    tok_keyset_add(ks, "hs12", TOK_HS256, HSKEY, strlen(HSKEY), 0))
		bail_out("key set");
	claims_fill(&c, "user", "a@example.org");
	if (tok_sign(ks, ISS, AUD, &c, &t) != USHER_OK)
		bail_out("tok_sign");
	len = strlen(t);
	dot2 = strrchr(t, '.');
	ok(verify(ks, t) == USHER_OK, "the untouched token verifies");
	ok(tok_verify(ks, NULL, ISS, AUD, NOW, &c) == USHER_ERR_BAD_TOKEN,
	    "NULL token");

#define TRY(want, desc, ...) do {					\
	snprintf(buf, sizeof(buf), __VA_ARGS__);			\
	ok(verify(ks, buf) == (want), desc);				\
} while (0)
	TRY(USHER_ERR_BAD_TOKEN, "last character cut", "%.*s", (int)len - 1, t);
	TRY(USHER_ERR_BAD_TOKEN, "signature cut", "%.*s",
	    (int)(dot2 - t + 1), t);
	TRY(USHER_ERR_BAD_TOKEN, "signature and dot cut", "%.*s",
	    (int)(dot2 - t), t);
	TRY(USHER_ERR_BAD_TOKEN, "cut to the header", "%.*s",
	    (int)(strchr(t, '.') - t), t);
	TRY(USHER_ERR_BAD_TOKEN, "cut in the payload", "%.*s",
	    (int)(strchr(t, '.') - t) + 10, t);
	TRY(USHER_ERR_BAD_TOKEN, "a fourth part", "%s.%s", t, "AAAA");
	TRY(USHER_ERR_BAD_TOKEN, "trailing dot", "%s.", t);
	TRY(USHER_ERR_BAD_TOKEN, "leading dot", ".%s", t);
	TRY(USHER_ERR_BAD_TOKEN, "trailing newline", "%s\n", t);
	TRY(USHER_ERR_BAD_TOKEN, "leading space", " %s", t);
	TRY(USHER_ERR_BAD_TOKEN, "Bearer prefix", "Bearer %s", t);
	TRY(USHER_ERR_BAD_TOKEN, "padding added", "%s==", t);
	TRY(USHER_ERR_BAD_TOKEN, "empty", "%s", "");
	TRY(USHER_ERR_BAD_TOKEN, "two dots", "%s", "..");
	TRY(USHER_ERR_BAD_TOKEN, "three junk parts", "%s", "a.b.c");
#undef TRY

	/* A changed signature, including bits that base64url leaves unused. */
	snprintf(buf, sizeof(buf), "%s", t);
	buf[len - 1] = buf[len - 1] == 'A' ? 'B' : 'A';
	ok(verify(ks, buf) == USHER_ERR_BAD_TOKEN, "last signature char changed");
	snprintf(buf, sizeof(buf), "%s", t);
	buf[dot2 - t + 10] = buf[dot2 - t + 10] == 'A' ? 'B' : 'A';
	ok(verify(ks, buf) == USHER_ERR_BAD_TOKEN, "signature char changed");

	/* The signature one byte short, or one byte long. */
	ok(b64url_decode(dot2 + 1, raw, sizeof(raw) - 1, &rawlen) &&
	    rawlen == 64, "ES256 signature is 64 bytes (R || S)");
	raw[64] = 0;
	for (i = 63; i <= 65; i += 2) {
		u = b64url_encode(raw, i);
		snprintf(buf, sizeof(buf), "%.*s%s", (int)(dot2 - t + 1), t, u);
		ok(verify(ks, buf) == USHER_ERR_BAD_TOKEN,
		    "signature of %zu bytes refused", i);
		free(u);
	}

	/* A different payload under the original header and signature. */
	u = craft(H_ES, "{" C_IDS ",\"role\":\"admin\"," C_IAT "," C_EXP "}",
	    SIG_EMPTY, NULL, 0);
	snprintf(buf, sizeof(buf), "%s%s", u, dot2 + 1);
	ok(verify(ks, buf) == USHER_ERR_BAD_TOKEN, "tampered payload");
	free(u);

	/* LIM_JWT_LEN bytes are read; one byte more is refused unread. */
	memset(buf, 'A', LIM_JWT_LEN + 1);
	buf[LIM_JWT_LEN + 1] = '\0';
	ok(verify(ks, buf) == USHER_ERR_BAD_TOKEN, "%d bytes refused",
	    LIM_JWT_LEN + 1);
	/* Lengths of 1 mod 4 cannot be base64url: try two header sizes. */
	for (pad = 5000; pad < 6000 && good; pad++) {
		memset(buf, 'p', pad / 2);
		buf[pad / 2] = '\0';
		snprintf(payload, sizeof(payload), "{" C_ALL ",\"pad\":\"%s\"}",
		    buf);
		u = craft(pad % 2 ? H_HS : H_HS12, payload, SIG_HS, HSKEY,
		    strlen(HSKEY));
		if (strlen(u) == LIM_JWT_LEN) {
			hit_max = 1;
			good = good && verify(ks, u) == USHER_OK;
		} else if (strlen(u) == LIM_JWT_LEN + 1) {
			hit_over = 1;
			good = good && verify(ks, u) == USHER_ERR_BAD_TOKEN;
		}
		free(u);
	}
	ok(hit_max && hit_over && good,
	    "a signed token of %d bytes verifies, of %d bytes does not",
	    LIM_JWT_LEN, LIM_JWT_LEN + 1);
	free(t);
	tok_keyset_free(ks);
}

/* Several keys verify, the newest that may sign signs, removal revokes. */
static void
test_rotation(void)
{
	struct tok_keyset	*old, *both, *fresh, *order;
	struct tok_claims	 c;
	char			*t_old = NULL, *t_new = NULL, *t = NULL, *h;

	claims_fill(&c, "user", "a@example.org");
	old = tok_keyset_new();
	tok_keyset_add(old, "2024-01", TOK_ES256, es_priv, strlen(es_priv), 1);
	ok(tok_sign(old, ISS, AUD, &c, &t_old) == USHER_OK, "old key signs");

	both = tok_keyset_new();
	tok_keyset_add(both, "2024-01", TOK_ES256, es_pub, strlen(es_pub), 0);
	tok_keyset_add(both, "2024-02", TOK_RS256, rs_priv, strlen(rs_priv),
	    1);
	ok(tok_sign(both, ISS, AUD, &c, &t_new) == USHER_OK, "new key signs");
	h = header_of(t_new);
	ok(strstr(h, "\"kid\":\"2024-02\"") != NULL &&
	    strstr(h, "RS256") != NULL, "the newest key signed: %s", h);
	free(h);
	ok(verify(both, t_old) == USHER_OK && verify(both, t_new) == USHER_OK,
	    "both tokens verify while both keys are in the set");
	ok(verify(old, t_new) == USHER_ERR_BAD_TOKEN,
	    "the old set does not know the new key");

	fresh = tok_keyset_new();
	tok_keyset_add(fresh, "2024-02", TOK_RS256, rs_pub, strlen(rs_pub), 0);
	ok(verify(fresh, t_old) == USHER_ERR_BAD_TOKEN,
	    "old key removed: its tokens are refused");
	ok(verify(fresh, t_new) == USHER_OK, "new tokens still verify");

	/* A verify-only key added last does not take over signing. */
	order = tok_keyset_new();
	tok_keyset_add(order, "signer", TOK_ES256, es2_priv, strlen(es2_priv),
	    1);
	tok_keyset_add(order, "retired", TOK_ES256, es_priv, strlen(es_priv),
	    0);
	ok(tok_sign(order, ISS, AUD, &c, &t) == USHER_OK, "sign");
	h = header_of(t);
	ok(strstr(h, "\"kid\":\"signer\"") != NULL,
	    "the newest key that may sign signs: %s", h);
	free(h);

	free(t);
	free(t_old);
	free(t_new);
	tok_keyset_free(old);
	tok_keyset_free(both);
	tok_keyset_free(fresh);
	tok_keyset_free(order);
}

/* base64url of an EVP_PKEY's big-number parameter, for comparison. */
static char *
param_b64(const char *pem, const char *param, int pad)
{
	EVP_PKEY	*k;
	BIGNUM		*bn = NULL;
	BIO		*b;
	unsigned char	 buf[512];
	char		*out;
	int		 len;

	b = BIO_new_mem_buf(pem, -1);
	k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k == NULL || EVP_PKEY_get_bn_param(k, param, &bn) != 1)
		bail_out("PEM_read_bio_PUBKEY");
	len = pad > 0 ? pad : BN_num_bytes(bn);
	BN_bn2binpad(bn, buf, len);
	out = b64url_encode(buf, (size_t)len);
	BN_free(bn);
	EVP_PKEY_free(k);
	return out;
}

static const char *
member(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void
test_jwks(void)
{
	static const char *const private_members[] = {
		"d", "p", "q", "dp", "dq", "qi", "k", "oth"
	};
	struct tok_keyset	*ks;
	struct json_object	*jwks, *keys, *ec, *rsa;
	char			*x, *y, *n;
	size_t			 i;
	int			 leak = 0;

	ks = tok_keyset_new();
	tok_keyset_add(ks, "es1", TOK_ES256, es_priv, strlen(es_priv), 1);
	tok_keyset_add(ks, "hs1", TOK_HS256, HSKEY, strlen(HSKEY), 1);
	tok_keyset_add(ks, "rs1", TOK_RS256, rs_priv, strlen(rs_priv), 1);
	jwks = tok_jwks(ks);
	ok(json_object_object_get_ex(jwks, "keys", &keys) &&
	    json_object_is_type(keys, json_type_array) &&
	    json_object_array_length(keys) == 2 &&
	    json_object_object_length(jwks) == 1,
	    "JWKS: {\"keys\":[2 keys]}, the HS256 key left out");
	rsa = json_object_array_get_idx(keys, 0);
	ec = json_object_array_get_idx(keys, 1);
	diag("%s", json_object_to_json_string_ext(ec, JSON_C_TO_STRING_PLAIN));

	x = param_b64(es_pub, OSSL_PKEY_PARAM_EC_PUB_X, 32);
	y = param_b64(es_pub, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
	n = param_b64(rs_pub, OSSL_PKEY_PARAM_RSA_N, 0);
	ok(streq(member(ec, "kty"), "EC") && streq(member(ec, "crv"), "P-256") &&
	    streq(member(ec, "use"), "sig") && streq(member(ec, "alg"), "ES256") &&
	    streq(member(ec, "kid"), "es1") && json_object_object_length(ec) == 7,
	    "EC key: kty, crv, x, y, use, alg, kid");
	ok(streq(member(ec, "x"), x) && streq(member(ec, "y"), y) &&
	    strlen(x) == 43 && strlen(y) == 43,
	    "EC x and y: 32 bytes each, base64url, match the key");
	ok(streq(member(rsa, "kty"), "RSA") && streq(member(rsa, "e"), "AQAB") &&
	    streq(member(rsa, "use"), "sig") &&
	    streq(member(rsa, "alg"), "RS256") &&
	    streq(member(rsa, "kid"), "rs1") &&
	    json_object_object_length(rsa) == 6,
	    "RSA key: kty, n, e, use, alg, kid");
	ok(streq(member(rsa, "n"), n) && strlen(n) == 342,
	    "RSA n: 256 bytes, base64url, matches the key");
	for (i = 0; i < nitems(private_members); i++)
		if (json_object_object_get_ex(ec, private_members[i], NULL) ||
		    json_object_object_get_ex(rsa, private_members[i], NULL))
			leak = 1;
	ok(!leak, "no private members");
	free(x);
	free(y);
	free(n);
	json_object_put(jwks);

	jwks = tok_jwks(NULL);
	ok(json_object_object_get_ex(jwks, "keys", &keys) &&
	    json_object_array_length(keys) == 0, "no key set: no keys");
	json_object_put(jwks);
	tok_keyset_free(ks);
}

static void
wipe_pem(char *p)
{
	if (p != NULL)
		explicit_bzero(p, strlen(p));
	free(p);
}

int
main(void)
{
	char	*hs, *none;

	test_keys();
	test_keyset_add();
	test_roundtrip(TOK_ES256, es_priv, es_pub);
	test_roundtrip(TOK_RS256, rs_priv, rs_pub);
	test_roundtrip(TOK_HS256, HSKEY, HSKEY);
	ok(tok_key_generate(TOK_HS256, &hs, &none) == USHER_OK &&
	    strlen(hs) >= LIM_HS256_SECRET_MIN && none == NULL,
	    "generate HS256: a random secret, no public part");
	test_roundtrip(TOK_HS256, hs, hs);
	wipe_pem(hs);
	test_sign_refusals();
	test_claims();
	test_headers();
	test_structure();
	test_rotation();
	test_jwks();
	wipe_pem(es_priv);
	wipe_pem(es_pub);
	wipe_pem(es2_priv);
	wipe_pem(es2_pub);
	wipe_pem(rs_priv);
	wipe_pem(rs_pub);
	return done_testing();
}
