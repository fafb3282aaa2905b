/* resp.c -- answering: JSON, problem+json (RFC 9457), security headers, CORS */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cfg.h"
#include "http_int.h"
#include "log.h"

/* The one mapping of library errors to HTTP statuses and stable codes. */
static const struct {
	int		 status;
	const char	*code;
	const char	*title;
} errmap[USHER_ERR__MAX] = {
	[USHER_OK] = { 200, "ok", "OK" },
	[USHER_ERR_INTERNAL] = { 500, "internal_error", "Internal Server Error" },
	[USHER_ERR_UNAVAILABLE] = { 503, "service_unavailable", "Service Unavailable" },
	[USHER_ERR_NOT_FOUND] = { 404, "not_found", "Not Found" },
	[USHER_ERR_INVALID] = { 400, "validation_failed", "Bad Request" },
	[USHER_ERR_INVALID_JSON] = { 400, "invalid_json", "Bad Request" },
	[USHER_ERR_MEDIA_TYPE] = { 415, "unsupported_media_type", "Unsupported Media Type" },
	[USHER_ERR_TOO_LARGE] = { 413, "payload_too_large", "Content Too Large" },
	[USHER_ERR_METHOD] = { 405, "method_not_allowed", "Method Not Allowed" },
	[USHER_ERR_EMAIL_TAKEN] = { 409, "email_taken", "Conflict" },
	[USHER_ERR_USERNAME_TAKEN] = { 409, "username_taken", "Conflict" },
	[USHER_ERR_CREDENTIALS] = { 401, "invalid_credentials", "Unauthorized" },
	[USHER_ERR_NOT_VERIFIED] = { 403, "email_not_verified", "Forbidden" },
	[USHER_ERR_DISABLED] = { 403, "account_disabled", "Forbidden" },
	[USHER_ERR_RATE_LIMITED] = { 429, "rate_limited", "Too Many Requests" },
	[USHER_ERR_BAD_REFRESH] = { 401, "invalid_refresh_token", "Unauthorized" },
	[USHER_ERR_REFRESH_REUSED] = { 401, "refresh_token_reused", "Unauthorized" },
	[USHER_ERR_UNAUTHORIZED] = { 401, "unauthorized", "Unauthorized" },
	[USHER_ERR_FORBIDDEN] = { 403, "forbidden", "Forbidden" },
	[USHER_ERR_WEAK_PASSWORD] = { 400, "weak_password", "Bad Request" },
	[USHER_ERR_CONFLICT] = { 409, "conflict", "Conflict" },
	[USHER_ERR_CONFIG] = { 500, "internal_error", "Internal Server Error" },
	[USHER_ERR_BAD_TOKEN] = { 401, "unauthorized", "Unauthorized" },
	[USHER_ERR_ALREADY_UPGRADED] = { 409, "already_upgraded", "Conflict" },
	[USHER_ERR_LINK_INVALID] = { 400, "invalid_token", "Bad Request" },
	[USHER_ERR_LINK_EXPIRED] = { 400, "token_expired", "Bad Request" },
	[USHER_ERR_MAIL_DISABLED] = { 503, "mail_disabled", "Service Unavailable" },
};

static int
http_status_of(enum usher_err e)
{
	return (unsigned)e < USHER_ERR__MAX && errmap[e].status ?
	    errmap[e].status : 500;
}

static const char *
http_code_of(enum usher_err e)
{
	return (unsigned)e < USHER_ERR__MAX && errmap[e].code ?
	    errmap[e].code : "internal_error";
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static void
out(struct req *r, const char *buf, size_t len)
{
	if (len == 0)
		return;
	if (r->impl->cgi)
		fwrite(buf, 1, len, stdout);
	else
		FCGX_PutStr(buf, (int)len, r->impl->out);
}

/* Header values never carry CR or LF: callers pass constants or checked data. */
void
resp_header(struct req *r, const char *name, const char *value)
{
	struct http_impl	*h = r->impl;
	int			 n;

	if (strpbrk(value, "\r\n") != NULL || strpbrk(name, "\r\n:") != NULL) {
		log_error("refusing header %s with CR/LF", name);
		return;
	}
	if (strcasecmp(name, "Content-Security-Policy") == 0)
		h->has_csp = 1;
	if (strcasecmp(name, "Cache-Control") == 0)
		h->has_cache = 1;
	n = snprintf(h->hdr + h->hdrlen, sizeof(h->hdr) - h->hdrlen,
	    "%s: %s\r\n", name, value);
	if (n < 0 || (size_t)n >= sizeof(h->hdr) - h->hdrlen) {
		log_error("response headers full, dropped %s", name);
		h->hdr[h->hdrlen] = '\0';
		return;
	}
	h->hdrlen += (size_t)n;
}

int
resp_cors(struct req *r)
{
	const char	*origin = req_header(r, "Origin");
	size_t		 i;

	if (origin == NULL)
		return 0;
	for (i = 0; i < cfg.ncors_origins; i++) {
		if (strcmp(cfg.cors_origins[i], origin) != 0)
			continue;
		resp_header(r, "Access-Control-Allow-Origin",
		    cfg.cors_origins[i]);
		resp_header(r, "Access-Control-Expose-Headers",
		    "X-Request-Id, Retry-After, WWW-Authenticate");
		r->impl->cors = 1;
		return 1;
	}
	return 0;
}

/* Status line, our headers, the handler's headers, then the body. */
void
resp_raw(struct req *r, int status, const char *ctype, const char *body,
    size_t len)
{
	struct http_impl	*h = r->impl;
	char			 head[1024];
	int			 n;

	if (h->responded) {
		log_error("second response for one request (status %d)", status);
		return;
	}
	h->responded = 1;
	h->status = status;
	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\n"
	    "X-Request-Id: %s\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Frame-Options: DENY\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "Cross-Origin-Resource-Policy: same-origin\r\n"
	    "Vary: Origin\r\n"
	    "%s%s%s"
	    "%s%s%s%s",
	    status, reason(status), r->request_id,
	    h->has_csp ? "" :
	    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n",
	    h->has_cache ? "" : "Cache-Control: no-store\r\n",
	    (h->flags & ROUTE_TOKENS) ? "Pragma: no-cache\r\n" : "",
	    strncmp(cfg.public_url ? cfg.public_url : "", "https:", 6) == 0 ?
	    "Strict-Transport-Security: max-age=31536000\r\n" : "",
	    ctype ? "Content-Type: " : "", ctype ? ctype : "",
	    ctype ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		n = 0;
	out(r, head, (size_t)n);
	n = snprintf(head, sizeof(head), "Content-Length: %zu\r\n",
	    body ? len : 0);
	out(r, head, (size_t)n);
	out(r, h->hdr, h->hdrlen);
	out(r, "\r\n", 2);
	if (body != NULL && !h->head)
		out(r, body, len);
}

void
resp_json(struct req *r, int status, struct json_object *obj)
{
	const char	*s;
	size_t		 len;

	s = json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	resp_raw(r, status, "application/json; charset=utf-8", s, len);
	json_object_put(obj);
}

void
resp_empty(struct req *r, int status)
{
	resp_raw(r, status, NULL, NULL, 0);
}

void
resp_accepted(struct req *r)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string("accepted"));
	resp_json(r, 202, o);
}

static struct json_object *
problem(enum usher_err e, const char *code, const char *detail)
{
	struct json_object	*o = json_object_new_object();
	int			 st = http_status_of(e);

	json_object_object_add(o, "type", json_object_new_string("about:blank"));
	json_object_object_add(o, "title",
	    json_object_new_string(errmap[e].title ? errmap[e].title : reason(st)));
	json_object_object_add(o, "status", json_object_new_int(st));
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "detail",
	    json_object_new_string(detail ? detail : usher_strerror(e)));
	return o;
}

static void
send_problem(struct req *r, int status, struct json_object *o)
{
	const char	*s;
	size_t		 len;

	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	resp_raw(r, status, "application/problem+json", s, len);
	json_object_put(o);
}

void
resp_error(struct req *r, enum usher_err e, const char *detail)
{
	struct json_object	*o;

	if ((unsigned)e >= USHER_ERR__MAX || e == USHER_OK)
		e = USHER_ERR_INTERNAL;
	o = problem(e, http_code_of(e), detail);
	if (http_status_of(e) == 401)
		resp_header(r, "WWW-Authenticate", e == USHER_ERR_BAD_TOKEN ||
		    e == USHER_ERR_UNAUTHORIZED ?
		    "Bearer realm=\"usher\", error=\"invalid_token\"" :
		    "Bearer realm=\"usher\"");
	send_problem(r, http_status_of(e), o);
}

static struct json_object *
errors_array(const struct jerr *errs, size_t n)
{
	struct json_object	*a = json_object_new_array(), *e;
	size_t			 i;

	for (i = 0; i < n && i < LIM_FIELD_ERRORS; i++) {
		e = json_object_new_object();
		json_object_object_add(e, "field",
		    json_object_new_string(errs[i].field));
		json_object_object_add(e, "code",
		    json_object_new_string(errs[i].code));
		json_object_array_add(a, e);
	}
	return a;
}

/*
 * 400 with the field list. When exactly one field failed with a
 * field-specific code (invalid_email, weak_password, ...), that code is
 * also the problem's top-level code, as the contract lists them.
 */
void
resp_invalid(struct req *r, const struct jerr *errs, size_t n)
{
	struct json_object	*o;
	const char		*code = "validation_failed";

	if (n == 1 && strncmp(errs[0].code, "invalid_", 8) == 0 &&
	    strcmp(errs[0].code, "invalid_type") != 0 &&
	    strcmp(errs[0].code, "invalid_format") != 0)
		code = errs[0].code;
	o = problem(USHER_ERR_INVALID, code, "the request has invalid fields");
	json_object_object_add(o, "errors", errors_array(errs, n));
	send_problem(r, 400, o);
}

void
resp_field_error(struct req *r, const char *code, const char *field,
    const char *detail)
{
	struct json_object	*o;
	struct jerr		 e = { field, code };

	o = problem(USHER_ERR_INVALID, code, detail);
	json_object_object_add(o, "errors", errors_array(&e, 1));
	send_problem(r, 400, o);
}

void
resp_rate_limited(struct req *r, unsigned retry_after)
{
	char	buf[16];

	snprintf(buf, sizeof(buf), "%u", retry_after > 0 ? retry_after : 1);
	resp_header(r, "Retry-After", buf);
	resp_error(r, USHER_ERR_RATE_LIMITED, "too many requests, retry later");
}

void
resp_fail(struct req *r, enum usher_err rc, unsigned retry, const char *pwf)
{
	if (rc == USHER_ERR_RATE_LIMITED)
		resp_rate_limited(r, retry);
	else if (rc == USHER_ERR_WEAK_PASSWORD && pwf != NULL)
		resp_field_error(r, "weak_password", pwf,
		    "the password is too short, too long or too common");
	else
		resp_error(r, rc, NULL);
}

void
resp_preflight(struct req *r, const char *allow)
{
	if (r->impl->cors) {
		resp_header(r, "Access-Control-Allow-Methods", allow);
		resp_header(r, "Access-Control-Allow-Headers",
		    "Authorization, Content-Type, X-Request-Id");
		resp_header(r, "Access-Control-Max-Age", "600");
	}
	resp_header(r, "Allow", allow);
	resp_empty(r, 204);
}

void
resp_method_not_allowed(struct req *r, const char *allow)
{
	resp_header(r, "Allow", allow);
	resp_error(r, USHER_ERR_METHOD, "method not allowed on this resource");
}

int
req_fields(struct req *r, const struct jfield *f, size_t n)
{
	struct jerr	errs[LIM_FIELD_ERRORS];
	size_t		nerr;

	nerr = json_check(r->json, f, n, errs, LIM_FIELD_ERRORS);
	if (nerr == 0)
		return 1;
	resp_invalid(r, errs, nerr < LIM_FIELD_ERRORS ? nerr : LIM_FIELD_ERRORS);
	return 0;
}
