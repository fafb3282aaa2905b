/* docs.c -- GET /v1/openapi.json and the human docs page /v1/docs */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "http.h"
#include "log.h"
#include "xmalloc.h"

#define DOC_MAX	(4 * 1024 * 1024)

/* Loaded once at start: the documents do not change while we run. */
static char	*openapi, *page;
static size_t	 openapi_len, page_len;

static char *
load(const char *name, size_t *len)
{
	char	*path, *buf;
	FILE	*f;

	path = xasprintf("%s/%s", cfg.docs_dir, name);
	f = fopen(path, "r");
	free(path);
	if (f == NULL) {
		log_error("cannot open %s in %s", name, cfg.docs_dir);
		return NULL;
	}
	buf = xmalloc(DOC_MAX);
	*len = fread(buf, 1, DOC_MAX, f);
	fclose(f);
	return buf;
}

static enum usher_err
init(void)
{
	openapi = load("openapi.json", &openapi_len);
	page = load("docs.html", &page_len);
	return openapi && page ? USHER_OK : USHER_ERR_CONFIG;
}

static void
get_openapi(struct req *r)
{
	resp_header(r, "Cache-Control", "public, max-age=300");
	resp_raw(r, 200, "application/json; charset=utf-8", openapi,
	    openapi_len);
}

static void
get_docs(struct req *r)
{
	resp_header(r, "Cache-Control", "public, max-age=300");
	resp_header(r, "Content-Security-Policy", "default-src 'none'; "
	    "style-src 'unsafe-inline'; frame-ancestors 'none'");
	resp_raw(r, 200, "text/html; charset=utf-8", page, page_len);
}

static const struct route routes[] = {
	{ HTTP_GET, "/v1/openapi.json", get_openapi, 0 },
	{ HTTP_GET, "/v1/docs", get_docs, 0 },
};

int
main(int argc, char *argv[])
{
	int	rc;

	rc = http_main(argc, argv, routes, sizeof(routes) / sizeof(routes[0]),
	    init);
	free(openapi);
	free(page);
	return rc;
}
