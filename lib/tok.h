/* tok.h -- access tokens: JWT signing and pinned verification, key sets, JWKS */
#ifndef USHER_TOK_H
#define USHER_TOK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "limits.h"

struct json_object;
struct tok_keyset;	/* opaque */

enum tok_alg { TOK_ES256, TOK_RS256, TOK_HS256, TOK__MAX };

/* Claims of an access token (contract: Token pair). */
struct tok_claims {
	char		 sub[37];		/* user id */
	char		 sid[37];		/* session id */
	char		 jti[37];
	char		 role[16];
	char		 email[LIM_EMAIL + 1];	/* "" for guests */
	int64_t		 iat;
	int64_t		 exp;
};

struct tok_keyset	*tok_keyset_new(void);
void			 tok_keyset_free(struct tok_keyset *);
/*
 * Add a key. For ES256/RS256 `pem` is the private key (PEM) when the key may
 * sign, else the public key; for HS256 `pem` is the raw secret. The most
 * recently added key with a private part signs. Copies everything; the key
 * material is wiped on free.
 */
enum usher_err		 tok_keyset_add(struct tok_keyset *, const char *kid,
			    enum tok_alg, const char *pem, size_t pemlen,
			    int can_sign);
size_t			 tok_keyset_count(const struct tok_keyset *);

/* Generate a new key pair; the caller frees (and wipes) both PEM strings. */
enum usher_err		 tok_key_generate(enum tok_alg, char **priv_pem,
			    char **pub_pem);
enum tok_alg		 tok_alg_parse(const char *);	/* TOK__MAX if unknown */
const char		*tok_alg_name(enum tok_alg);

/* Sign claims with the signing key; iss/aud added. Caller frees *out. */
enum usher_err		 tok_sign(const struct tok_keyset *, const char *iss,
			    const char *aud, const struct tok_claims *,
			    char **out);

/*
 * Verify a compact JWT: length <= LIM_JWT_LEN, header kid names a key of
 * the set and alg equals that key's algorithm exactly (libjwt trusts the
 * header: we check jwt_get_alg ourselves), signature, then the claims:
 * iss, aud, sub and sid are UUIDs, exp > now, iat and nbf (if present) not
 * after now + LIM_JWT_LEEWAY. USHER_OK or USHER_ERR_BAD_TOKEN.
 */
enum usher_err		 tok_verify(const struct tok_keyset *,
			    const char *token, const char *iss,
			    const char *aud, int64_t now,
			    struct tok_claims *out);

/* The public keys as a JWKS object (RFC 7517); HS256 keys are left out. */
struct json_object	*tok_jwks(const struct tok_keyset *);

#endif /* USHER_TOK_H */
