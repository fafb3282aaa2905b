/* http_int.h -- state shared by http.c, req.c and resp.c; private to lib/ */
#ifndef USHER_HTTP_INT_H
#define USHER_HTTP_INT_H

#include <stddef.h>

#include <fcgiapp.h>

#include "http.h"

#define HDR_BUF		4096	/* extra response headers of one answer */
#define ARENA_MAX	64	/* strings allocated for one request */

struct http_impl {
	FCGX_Stream	*in, *out;	/* NULL in CGI mode: stdin/stdout */
	char		**envp;		/* request parameters */
	int		 cgi;
	int		 head;		/* HEAD: headers only */
	int		 responded;
	int		 status;	/* what was answered, for the log */
	unsigned	 flags;		/* the matched route's ROUTE_* */
	int		 has_csp, has_cache; /* handler set its own */
	int		 cors;	/* the Origin is allowed */
	char		 hdr[HDR_BUF];
	size_t		 hdrlen;
	void		*arena[ARENA_MAX];
	size_t		 narena;
};

const char	*req_env(struct req *, const char *name);
/* Keep p until the request ends (freed then); returns p. */
void		*req_keep(struct req *, void *p);
void		 req_client_ip(struct req *);
void		 req_request_id(struct req *);
enum usher_err	 req_read_body(struct req *);
void		 req_reset(struct req *);

/* CORS headers for an allowed Origin; returns 1 if the origin is allowed. */
int		 resp_cors(struct req *);
void		 resp_preflight(struct req *, const char *allow);
void		 resp_method_not_allowed(struct req *, const char *allow);

#endif /* USHER_HTTP_INT_H */
