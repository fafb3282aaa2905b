/* http.c -- the FastCGI accept loop (or one CGI request), routing, dispatch */
#include "config.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "auth.h"
#include "cfg.h"
#include "db.h"
#include "http_int.h"
#include "log.h"
#include "pw.h"
#include "xmalloc.h"

static volatile sig_atomic_t	stopping;

static const char *const method_names[HTTP__MAX] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"
};

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static void
signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;	/* no SA_RESTART: accept() returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static enum http_method
method_parse(const char *m)
{
	int	i;

	for (i = 0; m != NULL && i < HTTP__MAX; i++)
		if (strcmp(m, method_names[i]) == 0)
			return (enum http_method)i;
	return HTTP__MAX;
}

/*
 * Match path against pattern; `{}` takes one segment of [A-Za-z0-9_-].
 * Segment values are copied into the request's arena.
 */
static int
match(struct req *r, const char *pat, const char *path, int capture)
{
	const char	*seg;
	size_t		 n = 0;

	while (*pat != '\0') {
		if (pat[0] == '{' && pat[1] == '}') {
			seg = path;
			while (*path != '\0' && *path != '/' &&
			    (isalnum((unsigned char)*path) || *path == '-' ||
			    *path == '_'))
				path++;
			if (path == seg || (*path != '\0' && *path != '/') ||
			    n == LIM_PATH_PARAMS)
				return 0;
			if (capture)
				r->params[n] = req_keep(r,
				    xstrndup(seg, (size_t)(path - seg)));
			n++;
			pat += 2;
			continue;
		}
		if (*pat++ != *path++)
			return 0;
	}
	if (*path != '\0')
		return 0;
	if (capture)
		r->nparams = n;
	return 1;
}

/* Comma-separated methods allowed on this path, into buf; 0 if none. */
static int
allowed(struct req *r, const struct route *rt, size_t n, char *buf,
    size_t sz)
{
	size_t	i, len = 0;
	int	any = 0, get = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!match(r, rt[i].pattern, r->path, 0))
			continue;
		any = 1;
		get |= rt[i].method == HTTP_GET;
		len += (size_t)snprintf(buf + len, sz - len, "%s%s",
		    len ? ", " : "", method_names[rt[i].method]);
		if (len >= sz)
			return 0;
	}
	if (any)
		snprintf(buf + len, sz - len, "%s, OPTIONS", get ? ", HEAD" : "");
	return any;
}

/* application/json, with no charset or charset=utf-8 (RFC 8259 8.1). */
static int
is_json_type(const char *ct)
{
	const char	*cs;
	size_t		 n = strlen("application/json");

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ')
		ct++;
	if (*ct == '\0')
		return 1;
	if (*ct != ';')
		return 0;
	if ((cs = strcasestr(ct, "charset=")) == NULL)
		return 1;
	cs += strlen("charset=");
	if (*cs == '"')
		cs++;
	return strncasecmp(cs, "utf-8", 5) == 0;
}

/* Body checks and parsing for JSON routes; answers on failure. */
static int
prepare_body(struct req *r, unsigned flags)
{
	enum usher_err	 rc;

	if ((rc = req_read_body(r)) != USHER_OK) {
		resp_error(r, rc, rc == USHER_ERR_TOO_LARGE ?
		    "request body too large" : "incomplete request body");
		return 0;
	}
	if (!(flags & (ROUTE_JSON | ROUTE_JSON_OPT)))
		return 1;
	if (r->bodylen == 0 && (flags & ROUTE_JSON_OPT)) {
		r->json = json_object_new_object();
		return 1;
	}
	if (!is_json_type(req_header(r, "Content-Type"))) {
		resp_error(r, USHER_ERR_MEDIA_TYPE,
		    "expected Content-Type: application/json");
		return 0;
	}
	if (json_parse_strict(r->body, r->bodylen, &r->json) != USHER_OK) {
		resp_error(r, USHER_ERR_INVALID_JSON,
		    "the body is not one strict JSON value");
		return 0;
	}
	if (!json_object_is_type(r->json, json_type_object)) {
		resp_error(r, USHER_ERR_INVALID_JSON,
		    "the body must be a JSON object");
		return 0;
	}
	return 1;
}

static void
dispatch(struct req *r, const struct route *rt, size_t n)
{
	const char	*uri, *q;
	char		 allow[128];
	enum http_method m;
	size_t		 i;
	enum usher_err	 rc;

	req_request_id(r);
	log_set_request(r->request_id);
	req_client_ip(r);
	uri = req_env(r, "REQUEST_URI");
	if (uri == NULL || *uri != '/' || strlen(uri) > LIM_PATH + LIM_QUERY) {
		resp_error(r, USHER_ERR_NOT_FOUND, "no such resource");
		return;
	}
	q = strchr(uri, '?');
	r->path = req_keep(r, q ? xstrndup(uri, (size_t)(q - uri)) :
	    xstrdup(uri));
	r->query = q ? q + 1 : "";
	m = method_parse(req_env(r, "REQUEST_METHOD"));
	r->method = m;
	resp_cors(r);
	if (!allowed(r, rt, n, allow, sizeof(allow))) {
		resp_error(r, USHER_ERR_NOT_FOUND, "no such resource");
		return;
	}
	if (m == HTTP_OPTIONS) {
		resp_preflight(r, allow);
		return;
	}
	if (m == HTTP_HEAD) {
		r->impl->head = 1;
		m = HTTP_GET;
	}
	for (i = 0; i < n; i++)
		if (rt[i].method == m && match(r, rt[i].pattern, r->path, 1))
			break;
	if (i == n) {
		resp_method_not_allowed(r, allow);
		return;
	}
	r->impl->flags = rt[i].flags;
	if (!prepare_body(r, rt[i].flags))
		return;
	if ((rc = db_ready()) != USHER_OK) {
		resp_error(r, rc, "the database is unavailable");
		return;
	}
	if ((rt[i].flags & ROUTE_AUTH) && (rc = auth_request(r)) != USHER_OK) {
		resp_error(r, rc, rc == USHER_ERR_UNAVAILABLE ?
		    "the database is unavailable" :
		    "a valid bearer token is required");
		return;
	}
	rt[i].handler(r);
	if (!r->impl->responded) {
		log_error("handler for %s %s gave no answer",
		    method_names[rt[i].method], rt[i].pattern);
		resp_error(r, USHER_ERR_INTERNAL, NULL);
	}
}

static enum usher_err
setup(const char *prog, enum usher_err (*init)(void))
{
	char		err[256];
	enum usher_err	rc;

	log_init(prog, LOG_LVL_INFO);
	if (cfg_load(&cfg, NULL, NULL, err, sizeof(err)) != USHER_OK) {
		log_error("configuration refused: %s", err);
		return USHER_ERR_CONFIG;
	}
	log_init(prog, cfg.log_level);
	if (cfg.allow_weak_scrypt)
		log_warn("allow_weak_scrypt is on: for tests and benchmarks only");
	/* an unreachable database is not fatal: requests get 503 until it is back */
	(void)db_init(cfg.database_url);
	if ((rc = auth_init()) != USHER_OK)
		return rc;
	return init ? init() : USHER_OK;
}

static void
teardown(void)
{
	auth_free();
	pw_free();
	db_close();
	cfg_free(&cfg);
}

static int
run_cgi(const struct route *rt, size_t n)
{
	struct http_impl	impl;
	struct req		r;

	memset(&impl, 0, sizeof(impl));
	memset(&r, 0, sizeof(r));
	impl.cgi = 1;
	r.impl = &impl;
	dispatch(&r, rt, n);
	fflush(stdout);
	db_notify_flush();
	req_reset(&r);
	return 0;
}

static int
run_fcgi(const struct route *rt, size_t n)
{
	FCGX_Request		fr;
	struct http_impl	impl;
	struct req		r;

	if (FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error("FCGX_InitRequest failed");
		return 1;
	}
	memset(&impl, 0, sizeof(impl));
	memset(&r, 0, sizeof(r));
	r.impl = &impl;
	while (!stopping && FCGX_Accept_r(&fr) >= 0) {
		impl.in = fr.in;
		impl.out = fr.out;
		impl.envp = fr.envp;
		dispatch(&r, rt, n);
		FCGX_Finish_r(&fr);
		/* after the answer went out: costs the client nothing */
		db_notify_flush();
		req_reset(&r);
		r.impl = &impl;
	}
	FCGX_Free(&fr, 1);
	log_info("stopping");
	return 0;
}

int
http_main(int argc, char *argv[], const struct route *rt, size_t n,
    enum usher_err (*init)(void))
{
	const char	*prog;
	int		 rc;

	(void)argc;
	prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	signals();
	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed");
		return 1;
	}
	if (setup(prog, init) != USHER_OK) {
		teardown();
		return 1;
	}
	rc = FCGX_IsCGI() ? run_cgi(rt, n) : run_fcgi(rt, n);
	teardown();
	return rc;
}
