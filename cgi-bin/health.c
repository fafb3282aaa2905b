/* health.c -- GET /v1/health: is this process able to serve? */
#include "config.h"

#include <json-c/json.h>

#include "http.h"
#include "migrate.h"

static void
get_health(struct req *r)
{
	struct json_object	*o;
	enum usher_err		 rc;
	int			 v;

	if ((rc = migrate_version(&v)) != USHER_OK) {
		resp_error(r, USHER_ERR_UNAVAILABLE, "the database is unavailable");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "database", json_object_new_string("ok"));
	json_object_object_add(o, "schema_version", json_object_new_int(v));
	json_object_object_add(o, "version", json_object_new_string(VERSION));
	resp_json(r, 200, o);
}

static const struct route routes[] = {
	{ HTTP_GET, "/v1/health", get_health, 0 },
};

int
main(int argc, char *argv[])
{
	return http_main(argc, argv, routes, sizeof(routes) / sizeof(routes[0]),
	    NULL);
}
