/* auth.c -- bearer tokens to principals: JWT verification, then the live session */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "http.h"
#include "keys.h"
#include "log.h"
#include "sess.h"
#include "tok.h"

enum usher_err
auth_init(void)
{
	return keys_init();
}

void
auth_free(void)
{
	keys_free();
}

enum usher_err
auth_request(struct req *r)
{
	const char		*h = req_header(r, "Authorization");
	struct tok_claims	 c;
	enum usher_err		 rc;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return USHER_ERR_UNAUTHORIZED;
	h += 7;
	while (*h == ' ')
		h++;
	if (*h == '\0' || strlen(h) > LIM_JWT_LEN)
		return USHER_ERR_UNAUTHORIZED;
	if ((rc = keys_verify(h, &c)) != USHER_OK)
		return rc == USHER_ERR_UNAVAILABLE ? rc : USHER_ERR_UNAUTHORIZED;
	if ((rc = sess_principal(c.sid, c.sub, &r->auth.user)) != USHER_OK)
		return rc;
	snprintf(r->auth.uid, sizeof(r->auth.uid), "%s", c.sub);
	snprintf(r->auth.sid, sizeof(r->auth.sid), "%s", c.sid);
	r->auth.ok = 1;
	return USHER_OK;
}
