/* jwks.c -- GET /.well-known/jwks.json: the public keys of access tokens */
#include "config.h"

#include <json-c/json.h>

#include "http.h"
#include "keys.h"

static void
get_jwks(struct req *r)
{
	struct json_object	*o;

	if ((o = keys_jwks()) == NULL) {
		resp_error(r, USHER_ERR_UNAVAILABLE, "no keys loaded");
		return;
	}
	/* caches must pick up rotations within the key reload period */
	resp_header(r, "Cache-Control", "public, max-age=300");
	resp_json(r, 200, o);
}

static const struct route routes[] = {
	{ HTTP_GET, "/.well-known/jwks.json", get_jwks, 0 },
};

int
main(int argc, char *argv[])
{
	return http_main(argc, argv, routes, sizeof(routes) / sizeof(routes[0]),
	    NULL);
}
