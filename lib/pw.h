/* pw.h -- password hashing (libscrypt) and password policy */
#ifndef USHER_PW_H
#define USHER_PW_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "limits.h"

/*
 * Set the parameters new hashes use. Unless allow_weak, sets weaker than
 * N=2^15,r=8,p=3 (by N*r*p, with r >= 8) are refused with USHER_ERR_CONFIG.
 * Also builds the dummy hash used for unknown users.
 */
enum usher_err	 pw_init(uint64_t n, uint32_t r, uint32_t p, int allow_weak,
		    unsigned min_chars);
/* Load the list of refused common passwords (one per line). */
enum usher_err	 pw_load_common(const char *path);
void		 pw_free(void);

/*
 * Policy: valid UTF-8, no NUL (len is the byte length, so an embedded NUL
 * is seen), at least min_chars characters, at most LIM_PASSWORD bytes, not
 * on the common list (compared case-insensitively). USHER_OK or
 * USHER_ERR_WEAK_PASSWORD.
 */
enum usher_err	 pw_policy(const char *pw, size_t len);

/* Hash pw with the configured parameters into out (MCF "$s1$..."). */
enum usher_err	 pw_hash(const char *pw, size_t len, char out[LIM_SCRYPT_HASH]);

/*
 * Check pw against a stored MCF hash, on a private copy (libscrypt_check
 * writes into its argument). Only known parameter sets are accepted.
 * USHER_OK on match (and *rehash = 1 when the stored parameters are weaker
 * than the configured ones), USHER_ERR_CREDENTIALS on mismatch or NUL in pw,
 * USHER_ERR_INTERNAL for a malformed or unknown stored hash.
 */
enum usher_err	 pw_verify(const char *pw, size_t len, const char *stored,
		    int *rehash);

/* Spend the time of one pw_verify against the dummy hash (unknown users). */
void		 pw_verify_dummy(const char *pw, size_t len);

/* Parse N, r, p out of an MCF string; 1 on success. */
int		 pw_params(const char *stored, uint64_t *n, uint32_t *r,
		    uint32_t *p);

#endif /* USHER_PW_H */
