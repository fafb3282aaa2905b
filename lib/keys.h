/* keys.h -- the signing key set, loaded from PostgreSQL and kept fresh */
#ifndef USHER_KEYS_H
#define USHER_KEYS_H

#include <stdint.h>

#include "err.h"
#include "tok.h"

struct json_object;

/* Load the key set now. USHER_ERR_CONFIG when the database answers but no
 * key can sign (run `usherctl keys generate`). */
enum usher_err		 keys_init(void);
void			 keys_free(void);
/* Sign an access token with the current key; caller frees *jwt. */
enum usher_err		 keys_sign(const struct tok_claims *, char **jwt);
/* Verify an access token against every published key. */
enum usher_err		 keys_verify(const char *jwt, struct tok_claims *);
/* The JWKS document; caller owns it. */
struct json_object	*keys_jwks(void);

/* Administration (usherctl). */
enum usher_err		 keys_generate(enum tok_alg, char kid[65], int *current);
enum usher_err		 keys_rotate(char kid[65]);
enum usher_err		 keys_retire(const char *kid);
/* kid, alg, state, created_at, activated_at as a JSON array. */
enum usher_err		 keys_list(struct json_object **);

#endif /* USHER_KEYS_H */
