/* db.c -- one PostgreSQL connection per process, prepared once, reconnected */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "log.h"
#include "xmalloc.h"

static PGconn	*conn;
static char	*conninfo;
static unsigned	 conn_gen = 1;	/* bumped on each (re)connection */
static char	 last_constraint[64];

static void	 deferred_clear(void);

static void
notice_quiet(void *arg, const PGresult *res)
{
	(void)arg;
	(void)res;
}

static enum usher_err
connect_now(void)
{
	if (conn != NULL)
		PQfinish(conn);
	deferred_clear();
	conn = PQconnectdb(conninfo);
	conn_gen++;
	if (PQstatus(conn) != CONNECTION_OK) {
		log_error("cannot connect to PostgreSQL: %s",
		    PQerrorMessage(conn));
		PQfinish(conn);
		conn = NULL;
		return USHER_ERR_UNAVAILABLE;
	}
	PQsetNoticeReceiver(conn, notice_quiet, NULL);
	return USHER_OK;
}

enum usher_err
db_init(const char *info)
{
	free(conninfo);
	conninfo = xstrdup(info);
	return connect_now();
}

void
db_close(void)
{
	if (conn != NULL)
		PQfinish(conn);
	conn = NULL;
	free(conninfo);
	conninfo = NULL;
}

PGconn *
db_conn(void)
{
	return conn;
}

unsigned
db_generation(void)
{
	return conn_gen;
}

enum usher_err
db_ready(void)
{
	PGresult	*res;

	if (conninfo == NULL)
		return USHER_ERR_INTERNAL;
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return connect_now();
	switch (PQtransactionStatus(conn)) {
	case PQTRANS_IDLE:
		return USHER_OK;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		log_warn("rolling back a transaction left open");
		deferred_clear();
		res = PQexec(conn, "ROLLBACK");
		PQclear(res);
		if (PQtransactionStatus(conn) == PQTRANS_IDLE)
			return USHER_OK;
		return connect_now();
	default:
		return connect_now();
	}
}

/* A failed command: was it the connection (503) or the statement? */
static enum usher_err
classify(PGresult *res, const char *name)
{
	const char	*state, *cons;

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		log_error("%s: connection lost: %s", name,
		    conn ? PQerrorMessage(conn) : "no connection");
		return USHER_ERR_UNAVAILABLE;
	}
	state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state != NULL && strcmp(state, "23505") == 0) {
		cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
		snprintf(last_constraint, sizeof(last_constraint), "%s",
		    cons ? cons : "");
		return USHER_ERR_CONFLICT;
	}
	/* admin shutdown, cannot connect now, too many connections, ... */
	if (state != NULL && (strncmp(state, "57P", 3) == 0 ||
	    strncmp(state, "08", 2) == 0 || strcmp(state, "53300") == 0)) {
		log_error("%s: server unavailable (%s)", name, state);
		return USHER_ERR_UNAVAILABLE;
	}
	log_error("%s failed (%s): %s", name, state ? state : "?",
	    res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
	return USHER_ERR_INTERNAL;
}

static enum usher_err
prepare(struct db_stmt *st)
{
	PGresult	*res;
	enum usher_err	 rc = USHER_OK;

	if (st->gen == conn_gen)
		return USHER_OK;
	res = PQprepare(conn, st->name, st->sql, st->nparams, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = classify(res, st->name);
	else
		st->gen = conn_gen;
	PQclear(res);
	return rc;
}

/*
 * A connection that broke while idle (server restarted, idle timeout) is
 * only noticed by the next command: reconnect and run it again once. Never
 * inside a transaction, whose earlier work is lost with the connection.
 */
static int
lost_while_idle(int was_idle)
{
	if (!was_idle || conn == NULL || PQstatus(conn) == CONNECTION_OK)
		return 0;
	log_warn("connection lost while idle: reconnecting");
	return connect_now() == USHER_OK;
}

static PGresult *
exec_prepared(struct db_stmt *st, const char *const *params,
    enum usher_err *rc)
{
	PGresult	*res;

	if ((*rc = prepare(st)) != USHER_OK)
		return NULL;
	res = PQexecPrepared(conn, st->name, st->nparams, params, NULL,
	    NULL, 0);
	if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)) {
		*rc = classify(res, st->name);
		PQclear(res);
		return NULL;
	}
	return res;
}

enum usher_err
db_exec(struct db_stmt *st, const char *const *params, PGresult **out)
{
	PGresult	*res;
	enum usher_err	 rc;
	int		 idle;

	if (out != NULL)
		*out = NULL;
	last_constraint[0] = '\0';
	if (conn == NULL && (rc = db_ready()) != USHER_OK)
		return rc;
	idle = PQtransactionStatus(conn) == PQTRANS_IDLE;
	res = exec_prepared(st, params, &rc);
	if (res == NULL && rc == USHER_ERR_UNAVAILABLE && lost_while_idle(idle))
		res = exec_prepared(st, params, &rc);
	if (res == NULL)
		return rc;
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return USHER_OK;
}

enum usher_err
db_exec_found(struct db_stmt *st, const char *const *params)
{
	PGresult	*res;
	enum usher_err	 rc;
	int		 n;

	if ((rc = db_exec(st, params, &res)) != USHER_OK)
		return rc;
	n = PQntuples(res);
	PQclear(res);
	return n > 0 ? USHER_OK : USHER_ERR_NOT_FOUND;
}

const char *
db_constraint(void)
{
	return last_constraint;
}

static enum usher_err
simple_once(const char *sql)
{
	PGresult	*res;
	enum usher_err	 rc = USHER_OK;

	res = PQexec(conn, sql);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = classify(res, sql);
	PQclear(res);
	return rc;
}

static enum usher_err
simple(const char *sql)
{
	enum usher_err	rc;
	int		idle;

	if (conn == NULL && (rc = db_ready()) != USHER_OK)
		return rc;
	idle = PQtransactionStatus(conn) == PQTRANS_IDLE;
	rc = simple_once(sql);
	if (rc == USHER_ERR_UNAVAILABLE && lost_while_idle(idle))
		rc = simple_once(sql);
	return rc;
}

enum usher_err
db_begin(void)
{
	deferred_clear();
	return simple("BEGIN");
}

/* ------------------------------------------ work sent with the COMMIT */

#define DEFER_MAX	4
#define NOTIFY_MAX	4

/* A statement db_exec_at_commit queued, with copies of its parameters. */
struct deferred {
	struct db_stmt	*st;
	char		**params;
};

static struct deferred	 deferred[DEFER_MAX];
static size_t		 deferred_n;
static const char	*notify_pending[NOTIFY_MAX];
static size_t		 notify_n;

/* Its own transaction writes no WAL of its own: the commit does not wait
 * for the disk. */
#define NOTIFY_SQL	"SELECT pg_notify($1, '')"

static void
deferred_clear(void)
{
	size_t	i;
	int	j;

	for (i = 0; i < deferred_n; i++) {
		for (j = 0; j < deferred[i].st->nparams; j++)
			free(deferred[i].params[j]);
		free(deferred[i].params);
	}
	deferred_n = 0;
}

enum usher_err
db_exec_at_commit(struct db_stmt *st, const char *const *params)
{
	struct deferred	*d;
	enum usher_err	 rc;
	int		 j;

	if (conn == NULL || deferred_n == DEFER_MAX ||
	    PQtransactionStatus(conn) != PQTRANS_INTRANS)
		return db_exec(st, params, NULL);
	if ((rc = prepare(st)) != USHER_OK)
		return rc;
	d = &deferred[deferred_n++];
	d->st = st;
	d->params = xcalloc((size_t)st->nparams + 1, sizeof(char *));
	for (j = 0; j < st->nparams; j++)
		d->params[j] = params[j] ? xstrdup(params[j]) : NULL;
	return USHER_OK;
}

/*
 * The connection is in a state nothing can use any more (a pipeline that
 * did not end): drop it; db_ready() connects again.
 */
static enum usher_err
drop_conn(const char *why)
{
	log_error("dropping the PostgreSQL connection: %s", why);
	PQfinish(conn);
	conn = NULL;
	return USHER_ERR_UNAVAILABLE;
}

/*
 * One result of a pipelined query, and the NULL that ends it. Returns its
 * status; `name` names it in the log when it failed (a warning only when
 * `quiet`: no classification, no constraint recorded).
 */
static enum usher_err
pipeline_result(const char *name, int quiet)
{
	PGresult	*res, *more;
	enum usher_err	 rc = USHER_OK;

	res = PQgetResult(conn);
	switch (res ? PQresultStatus(res) : PGRES_FATAL_ERROR) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
		break;
	case PGRES_PIPELINE_ABORTED:
		/* an earlier query failed: its error is the one reported */
		rc = USHER_ERR_INTERNAL;
		break;
	default:
		if (quiet) {
			log_warn("%s failed: %s", name, res ?
			    PQresultErrorMessage(res) : PQerrorMessage(conn));
			rc = USHER_ERR_INTERNAL;
		} else
			rc = classify(res, name);
		break;
	}
	PQclear(res);
	if (res != NULL)
		while ((more = PQgetResult(conn)) != NULL)
			PQclear(more);
	return rc;
}

/*
 * COMMIT with the deferred statements before it and the pending
 * notifications after it, in one round trip: a libpq pipeline. A failing
 * deferred statement aborts the transaction (the COMMIT is skipped; the
 * caller rolls back); a failing notification is only logged.
 */
static enum usher_err
pipeline_commit(void)
{
	PGresult	*res;
	const char	*p[1];
	enum usher_err	 rc = USHER_OK, r;
	size_t		 i, nd = deferred_n, nn = notify_n;
	int		 sent = 1;

	if (PQenterPipelineMode(conn) != 1)
		return drop_conn(PQerrorMessage(conn));
	for (i = 0; sent && i < nd; i++)
		sent = PQsendQueryPrepared(conn, deferred[i].st->name,
		    deferred[i].st->nparams,
		    (const char *const *)deferred[i].params, NULL, NULL, 0);
	if (sent)
		sent = PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL,
		    NULL, 0);
	for (i = 0; sent && i < nn; i++) {
		p[0] = notify_pending[i];
		sent = PQsendQueryParams(conn, NOTIFY_SQL, 1, NULL, p, NULL,
		    NULL, 0);
	}
	if (!sent || PQpipelineSync(conn) != 1)
		return drop_conn(PQerrorMessage(conn));
	for (i = 0; i < nd; i++)
		if ((r = pipeline_result(deferred[i].st->name, 0)) != USHER_OK &&
		    rc == USHER_OK)
			rc = r;
	if ((r = pipeline_result("COMMIT", 0)) != USHER_OK && rc == USHER_OK)
		rc = r;
	for (i = 0; i < nn; i++)
		(void)pipeline_result("NOTIFY", 1);
	res = PQgetResult(conn);
	if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
		PQclear(res);
		return drop_conn("the pipeline did not end in its sync");
	}
	PQclear(res);
	if (PQexitPipelineMode(conn) != 1)
		return drop_conn(PQerrorMessage(conn));
	if (rc == USHER_OK)
		notify_n = 0;
	return rc;
}

enum usher_err
db_commit(void)
{
	enum usher_err	rc;

	/*
	 * A transaction lost with its connection, or one a failed statement
	 * aborted (PostgreSQL would answer its COMMIT with a ROLLBACK): an
	 * error, never a silent success; the caller rolls back.
	 */
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		rc = classify(NULL, "COMMIT");
	else if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
		log_error("COMMIT of a transaction that is not open and sound");
		rc = USHER_ERR_INTERNAL;
	} else if (deferred_n == 0 && notify_n == 0)
		rc = simple("COMMIT");
	else
		rc = pipeline_commit();
	deferred_clear();
	return rc;
}

void
db_rollback(void)
{
	deferred_clear();
	if (conn != NULL && PQtransactionStatus(conn) != PQTRANS_IDLE)
		(void)simple("ROLLBACK");
}

void
db_notify_later(const char *channel)
{
	size_t	i;

	for (i = 0; i < notify_n; i++)
		if (strcmp(notify_pending[i], channel) == 0)
			return;
	if (notify_n < NOTIFY_MAX)
		notify_pending[notify_n++] = channel;
}

void
db_notify_flush(void)
{
	PGresult	*res;
	const char	*p[1];
	size_t		 i;

	for (i = 0; i < notify_n; i++) {
		if (conn == NULL || PQstatus(conn) != CONNECTION_OK ||
		    PQtransactionStatus(conn) != PQTRANS_IDLE)
			break;
		p[0] = notify_pending[i];
		res = PQexecParams(conn, NOTIFY_SQL, 1, NULL, p,
		    NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			log_warn("NOTIFY %s failed: %s", p[0],
			    PQerrorMessage(conn));
		PQclear(res);
	}
	notify_n = 0;
}
