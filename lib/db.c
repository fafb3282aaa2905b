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
	return simple("BEGIN");
}

enum usher_err
db_commit(void)
{
	return simple("COMMIT");
}

void
db_rollback(void)
{
	if (conn != NULL && PQtransactionStatus(conn) != PQTRANS_IDLE)
		(void)simple("ROLLBACK");
}

#define NOTIFY_MAX	4
static const char	*notify_pending[NOTIFY_MAX];
static size_t		 notify_n;

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
		res = PQexecParams(conn, "SELECT pg_notify($1, '')", 1, NULL, p,
		    NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			log_warn("NOTIFY %s failed: %s", p[0],
			    PQerrorMessage(conn));
		PQclear(res);
	}
	notify_n = 0;
}
