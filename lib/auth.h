/* auth.h -- bearer authentication of a request and the role matrix */
#ifndef USHER_AUTH_H
#define USHER_AUTH_H

#include "err.h"
#include "user.h"

struct req;

enum usher_err	auth_init(void);
void		auth_free(void);
/*
 * Verify `Authorization: Bearer <jwt>` and that its session is live; fill
 * r->auth. USHER_ERR_UNAUTHORIZED for any bad, expired or revoked token,
 * USHER_ERR_UNAVAILABLE when the database is down.
 */
enum usher_err	auth_request(struct req *r);

#endif /* USHER_AUTH_H */
