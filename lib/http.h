/* http.h -- the FastCGI/CGI loop, requests, responses and route tables */
#ifndef USHER_HTTP_H
#define USHER_HTTP_H

#include <stddef.h>

#include "err.h"
#include "json.h"
#include "limits.h"

struct json_object;
struct user;

enum http_method {
	HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_PATCH, HTTP_DELETE,
	HTTP_OPTIONS, HTTP__MAX
};

/* Who is calling, once a route marked ROUTE_AUTH has verified the bearer. */
struct principal {
	int		 ok;			/* 1 once authenticated */
	char		 uid[37];		/* sub */
	char		 sid[37];		/* session id */
	struct user	*user;			/* the live user row (owned by req) */
};

/* One request and the state of its answer; reset between requests. */
struct req {
	enum http_method method;
	const char	*path;		/* decoded-free raw path, no query */
	const char	*query;		/* raw query string, "" if none */
	const char	*params[LIM_PATH_PARAMS]; /* {…} segments of the route */
	size_t		 nparams;
	char		*body;		/* NUL-terminated copy, may be NULL */
	size_t		 bodylen;
	struct json_object *json;	/* parsed body for ROUTE_JSON routes */
	char		 request_id[LIM_REQUEST_ID + 1];
	char		 client_ip[64];	/* after trusted-proxy resolution */
	struct principal auth;
	struct http_impl *impl;		/* private to http.c */
};

#define ROUTE_JSON	0x01	/* body must be application/json, parsed */
#define ROUTE_AUTH	0x02	/* Bearer token required */
#define ROUTE_TOKENS	0x04	/* answer carries tokens: Cache-Control no-store */
#define ROUTE_JSON_OPT	0x10	/* like ROUTE_JSON, but an empty body is {} */

typedef void	(*handler_fn)(struct req *);

/*
 * One route: a method and a pattern in which `{}` matches one path segment
 * of [A-Za-z0-9_-] (the value lands in req->params, in order).
 */
struct route {
	enum http_method method;
	const char	*pattern;
	handler_fn	 handler;
	unsigned	 flags;
};

/*
 * Run the program: load the configuration, connect to the database, then
 * answer FastCGI requests until SIGTERM/SIGUSR1 (finishing the one in hand),
 * or answer the one CGI request when not started by a FastCGI server.
 * `init` (may be NULL) runs once after the configuration is loaded.
 * Returns the process exit status.
 */
int		 http_main(int argc, char *argv[], const struct route *routes,
		    size_t nroutes, enum usher_err (*init)(void));

/* Request accessors. Returned strings live until the request ends. */
const char	*req_header(struct req *, const char *name); /* "User-Agent" */
const char	*req_query(struct req *, const char *key);   /* decoded, or NULL */
const char	*req_cookie(struct req *, const char *name);
/* A field of an application/x-www-form-urlencoded body, or NULL. */
const char	*req_form(struct req *, const char *name);

/* Responses: exactly one per request. `obj` is consumed (json_object_put). */
void		 resp_header(struct req *, const char *name, const char *value);
void		 resp_json(struct req *, int status, struct json_object *obj);
void		 resp_empty(struct req *, int status);
/* 202 {"status":"accepted"}: queued (mail), whatever happens next. */
void		 resp_accepted(struct req *);
void		 resp_raw(struct req *, int status, const char *ctype,
		    const char *body, size_t len);
/* problem+json for `e`, with an optional detail (static or copied). */
void		 resp_error(struct req *, enum usher_err e, const char *detail);
/* 400 validation_failed with the field list. */
void		 resp_invalid(struct req *, const struct jerr *, size_t n);
/* 400 with one field and a specific top-level code (weak_password, ...). */
void		 resp_field_error(struct req *, const char *code,
		    const char *field, const char *detail);
/* 429 with Retry-After. */
void		 resp_rate_limited(struct req *, unsigned retry_after);
/*
 * Answer a service failure: 429 with Retry-After, weak_password on the
 * named password field, else the error's own problem.
 */
void		 resp_fail(struct req *, enum usher_err, unsigned retry_after,
		    const char *pwfield);

/* Convenience for handlers: check body fields, answer 400 on failure.
 * Returns 1 if all fields are acceptable. */
int		 req_fields(struct req *, const struct jfield *, size_t n);

#endif /* USHER_HTTP_H */
