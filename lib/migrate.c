/* migrate.c -- forward-only SQL migrations, each applied once in a transaction */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "valid.h"
#include "xmalloc.h"

#define MIGRATION_MAX	(1024 * 1024)
#define MIGRATIONS_MAX	1000

enum mstmt { M_VERSION, M_RECORD, M__MAX };

static struct db_stmt mstmts[M__MAX] = {
	[M_VERSION] = { "migrate_version",
	    "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, 0 },
	[M_RECORD] = { "migrate_record",
	    "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)",
	    2, 0 },
};

static const char bootstrap[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY CHECK (version > 0),"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now());"
    "COMMENT ON TABLE schema_migrations IS 'Applied sql/NNNN-*.sql files';"
    "COMMENT ON COLUMN schema_migrations.version IS 'The NNNN of the file';"
    "COMMENT ON COLUMN schema_migrations.name IS 'File name';"
    "COMMENT ON COLUMN schema_migrations.applied_at IS 'When it was applied';";

static enum usher_err
run(const char *sql)
{
	PGresult	*res;
	enum usher_err	 rc = USHER_OK;

	res = PQexec(db_conn(), sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("migration failed: %s", PQresultErrorMessage(res));
		rc = USHER_ERR_INTERNAL;
	}
	PQclear(res);
	return rc;
}

static char *
slurp(const char *path)
{
	char		*buf;
	size_t		 n;
	enum usher_err	 rc;

	if ((rc = file_read(path, MIGRATION_MAX, &buf, &n)) == USHER_OK)
		return buf;
	if (rc == USHER_ERR_TOO_LARGE)
		log_error("%s: too large", path);
	else if (rc == USHER_ERR_INVALID)
		log_error("%s: unreadable", path);
	else
		log_error("%s: %s", path, strerror(errno));
	return NULL;
}

/* "0001-name.sql" -> 1; 0 if the name is not a migration's. */
static int
version_of(const char *name)
{
	char	num[5];
	int64_t	v;
	size_t	len = strlen(name);

	if (len < 10 || name[4] != '-' || strcmp(name + len - 4, ".sql") != 0)
		return 0;
	memcpy(num, name, 4);
	num[4] = '\0';
	while (num[0] == '0' && num[1] != '\0')
		memmove(num, num + 1, strlen(num));
	if (num_parse(num, 1, 9999, &v) != USHER_OK)
		return 0;
	return (int)v;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum usher_err
apply_one(const char *dir, const char *name, int v)
{
	char		*path, *sql, num[16];
	const char	*p[2] = { num, name };
	enum usher_err	 rc;

	path = xasprintf("%s/%s", dir, name);
	sql = slurp(path);
	free(path);
	if (sql == NULL)
		return USHER_ERR_INTERNAL;
	snprintf(num, sizeof(num), "%d", v);
	if ((rc = run("BEGIN")) == USHER_OK &&
	    (rc = run(sql)) == USHER_OK &&
	    (rc = db_exec(&mstmts[M_RECORD], p, NULL)) == USHER_OK)
		rc = run("COMMIT");
	if (rc != USHER_OK)
		db_rollback();
	else
		log_info("applied %s", name);
	free(sql);
	return rc;
}

enum usher_err
migrate_apply(const char *dir, int *applied)
{
	DIR		*d;
	struct dirent	*de;
	char		*names[MIGRATIONS_MAX];
	size_t		 n = 0, i;
	int		 cur, v;
	enum usher_err	 rc;

	*applied = 0;
	if ((rc = db_ready()) != USHER_OK)
		return rc;
	/* one migrator at a time: the lock lasts for the session */
	if ((rc = run("SELECT pg_advisory_lock(726563)")) != USHER_OK ||
	    (rc = run(bootstrap)) != USHER_OK)
		return rc;
	if ((d = opendir(dir)) == NULL) {
		log_error("%s: %s", dir, strerror(errno));
		rc = USHER_ERR_CONFIG;
		goto out;
	}
	while ((de = readdir(d)) != NULL && n < MIGRATIONS_MAX)
		if (version_of(de->d_name) > 0)
			names[n++] = xstrdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	if ((rc = migrate_version(&cur)) != USHER_OK)
		goto out;
	for (i = 0; i < n && rc == USHER_OK; i++) {
		if ((v = version_of(names[i])) <= cur)
			continue;
		if ((rc = apply_one(dir, names[i], v)) == USHER_OK)
			(*applied)++;
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	(void)run("SELECT pg_advisory_unlock(726563)");
	return rc;
}

enum usher_err
migrate_version(int *version)
{
	PGresult	*res;
	enum usher_err	 rc;

	*version = 0;
	if ((rc = db_exec(&mstmts[M_VERSION], NULL, &res)) != USHER_OK)
		return rc;
	*version = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return USHER_OK;
}
