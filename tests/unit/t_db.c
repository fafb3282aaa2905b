/* t_db.c -- lib/db.c against a real PostgreSQL: statements, work deferred
 * to the COMMIT's pipeline, notifications, reconnection */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "db.h"
#include "log.h"
#include "tap.h"

/*
 * The database comes from USHER_TEST_PG (a libpq conninfo; tests/run sets
 * it to a database of its own); without it the whole test is skipped.
 * A second connection, the observer, sees what is committed and LISTENs.
 */
#define CHAN		"t_db_chan"
#define PKEY		"t_db_pkey"
#define QUIET_MS	300	/* how long "no notification" is watched for */
#define WAIT_MS		5000	/* the longest wait for a notification */
#define BAD_CONNINFO	"host=/nonexistent/t_db port=1 dbname=none " \
			    "connect_timeout=2"

enum stmt {
	S_DROP,
	S_CREATE,
	S_INSERT,
	S_INSERT_N,
	S_FIND,
	S_STEP,
	S_PID,
	S_BROKEN,
	S__MAX
};

static struct db_stmt	stmts[S__MAX] = {
	[S_DROP] = { "t_db_drop", "DROP TABLE IF EXISTS t_db", 0, 0 },
	[S_CREATE] = { "t_db_create",
	    "CREATE TABLE t_db (k text CONSTRAINT " PKEY " PRIMARY KEY, "
	    "n integer NOT NULL DEFAULT 0 CONSTRAINT t_db_n_check "
	    "CHECK (n >= 0))", 0, 0 },
	[S_INSERT] = { "t_db_insert", "INSERT INTO t_db (k) VALUES ($1)",
	    1, 0 },
	[S_INSERT_N] = { "t_db_insert_n", "INSERT INTO t_db (k, n) "
	    "VALUES ($1, COALESCE($2::integer, 7))", 2, 0 },
	[S_FIND] = { "t_db_find", "SELECT k FROM t_db WHERE k = $1", 1, 0 },
	/* n's decimal digits record the order the steps ran in */
	[S_STEP] = { "t_db_step",
	    "UPDATE t_db SET n = n * 10 + $2::integer WHERE k = $1", 2, 0 },
	[S_PID] = { "t_db_pid", "SELECT pg_backend_pid()::text", 0, 0 },
	[S_BROKEN] = { "t_db_broken", "SELEKT 1", 0, 0 },
};

static PGconn	*obs;	/* the observer */

/* ---------------------------------------------------------- observer */

/*
 * The observer's answer to `sql` (at most one parameter) into out: 1 with
 * a row, 0 without, -1 when the query failed.
 */
static int
obs_get(const char *sql, const char *param, char *out, size_t outsz)
{
	PGresult	*res;
	const char	*p[1];
	int		 rc = -1;

	p[0] = param;
	out[0] = '\0';
	res = PQexecParams(obs, sql, param != NULL, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		diag("observer: %s: %s", sql, PQresultErrorMessage(res));
	else if (PQntuples(res) == 0)
		rc = 0;
	else {
		snprintf(out, outsz, "%s", PQgetvalue(res, 0, 0));
		rc = 1;
	}
	PQclear(res);
	return rc;
}

/* Is row k committed, as another session sees it? 1, 0, or -1. */
static int
committed(const char *k)
{
	char	v[8];

	return obs_get("SELECT 1 FROM t_db WHERE k = $1", k, v, sizeof(v));
}

/* Is row k committed with n = want? */
static int
committed_n(const char *k, const char *want)
{
	char	v[32];

	return obs_get("SELECT n FROM t_db WHERE k = $1", k, v,
	    sizeof(v)) == 1 && strcmp(v, want) == 0;
}

/* End backend `pid` and wait (up to 5 s) until it is gone. */
static int
terminate(const char *pid)
{
	char	v[8];

	return obs_get("SELECT pg_terminate_backend($1::integer, 5000)", pid,
	    v, sizeof(v)) == 1 && strcmp(v, "t") == 0;
}

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The observer's notifications on CHAN that arrive within `ms` ms; with
 * `first`, it returns as soon as there is one. -1: the connection failed.
 */
static int
notified(int ms, int first)
{
	struct pollfd	 pfd;
	PGnotify	*n;
	long long	 end = now_ms() + ms;
	int		 count = 0, left;

	pfd.fd = PQsocket(obs);
	pfd.events = POLLIN;
	for (;;) {
		if (PQconsumeInput(obs) != 1)
			return -1;
		while ((n = PQnotifies(obs)) != NULL) {
			if (strcmp(n->relname, CHAN) == 0)
				count++;
			PQfreemem(n);
		}
		left = (int)(end - now_ms());
		if ((first && count > 0) || left <= 0)
			return count;
		if (poll(&pfd, 1, left) == -1 && errno != EINTR)
			return -1;
	}
}

/* ------------------------------------------------ the library's side */

static enum usher_err
insert(const char *k)
{
	const char	*p[1];

	p[0] = k;
	return db_exec(&stmts[S_INSERT], p, NULL);
}

static enum usher_err
insert_later(const char *k)
{
	const char	*p[1];

	p[0] = k;
	return db_exec_at_commit(&stmts[S_INSERT], p);
}

/* Does the library's own connection see row k? 1, 0, or -1. */
static int
sees(const char *k)
{
	const char	*p[1];

	p[0] = k;
	switch (db_exec_found(&stmts[S_FIND], p)) {
	case USHER_OK:
		return 1;
	case USHER_ERR_NOT_FOUND:
		return 0;
	default:
		return -1;
	}
}

/* The pid of the library's backend, into pid[16]. */
static enum usher_err
backend_pid(char *pid)
{
	PGresult	*res;
	enum usher_err	 rc;

	pid[0] = '\0';
	if ((rc = db_exec(&stmts[S_PID], NULL, &res)) != USHER_OK)
		return rc;
	snprintf(pid, 16, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return USHER_OK;
}

/* ------------------------------------------------------------- tests */

static void
test_init(const char *info)
{
	char	pid[16];

	ok(db_ready() == USHER_ERR_INTERNAL, "db_ready before db_init: "
	    "internal (no conninfo)");
	ok(db_init(BAD_CONNINFO) == USHER_ERR_UNAVAILABLE,
	    "db_init with a bad conninfo: unavailable");
	ok(backend_pid(pid) == USHER_ERR_UNAVAILABLE, "a statement with no "
	    "server to reach: unavailable");
	if (!ok(db_init(info) == USHER_OK, "db_init with USHER_TEST_PG: ok"))
		bail_out("cannot connect to USHER_TEST_PG");
}

static void
setup(const char *info)
{
	PGresult	*res;

	if (db_exec(&stmts[S_DROP], NULL, NULL) != USHER_OK ||
	    db_exec(&stmts[S_CREATE], NULL, NULL) != USHER_OK)
		bail_out("cannot create the table t_db");
	obs = PQconnectdb(info);
	if (PQstatus(obs) != CONNECTION_OK)
		bail_out("the observer cannot connect");
	res = PQexec(obs, "LISTEN " CHAN);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		bail_out("the observer cannot LISTEN");
	PQclear(res);
}

static void
test_exec(void)
{
	PGresult	*res;
	const char	*p[2];

	ok(insert("a") == USHER_OK && committed("a") == 1,
	    "db_exec outside a transaction: committed at once");
	p[0] = "a";
	ok(db_exec(&stmts[S_FIND], p, &res) == USHER_OK &&
	    PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "a") == 0,
	    "db_exec hands over its rows");
	PQclear(res);
	ok(db_exec_found(&stmts[S_FIND], p) == USHER_OK,
	    "db_exec_found with a row: ok");
	p[0] = "nothing";
	ok(db_exec_found(&stmts[S_FIND], p) == USHER_ERR_NOT_FOUND,
	    "db_exec_found without rows: not found");
	ok(insert("a") == USHER_ERR_CONFLICT &&
	    strcmp(db_constraint(), PKEY) == 0,
	    "a unique violation: conflict, naming %s (got '%s')", PKEY,
	    db_constraint());
	ok(sees("a") == 1 && db_constraint()[0] == '\0',
	    "the next statement runs and clears db_constraint()");
	p[0] = "neg";
	p[1] = "-1";
	ok(db_exec(&stmts[S_INSERT_N], p, NULL) == USHER_ERR_INTERNAL &&
	    committed("neg") == 0, "a CHECK violation: internal");
	ok(db_exec(&stmts[S_BROKEN], NULL, NULL) == USHER_ERR_INTERNAL &&
	    sees("a") == 1, "a statement that does not parse: internal; "
	    "the connection stays usable");
}

/*
 * A COMMIT of a transaction a failed statement aborted: PostgreSQL answers
 * it with a ROLLBACK; db_commit must not call that a success.
 */
static void
test_aborted_commit(void)
{
	ok(db_begin() == USHER_OK && insert("ab-1") == USHER_OK &&
	    insert("a") == USHER_ERR_CONFLICT,
	    "a transaction in which a statement failed");
	ok(db_commit() == USHER_ERR_INTERNAL, "its plain COMMIT: internal");
	db_rollback();
	ok(committed("ab-1") == 0 && sees("a") == 1,
	    "nothing of it committed; the connection is usable");
	ok(db_begin() == USHER_OK && insert_later("ab-2") == USHER_OK &&
	    insert("a") == USHER_ERR_CONFLICT,
	    "the same with deferred work queued");
	ok(db_commit() == USHER_ERR_INTERNAL, "its COMMIT: internal");
	db_rollback();
	ok(committed("ab-2") == 0 && db_begin() == USHER_OK &&
	    insert("ab-3") == USHER_OK && db_commit() == USHER_OK &&
	    committed("ab-3") == 1,
	    "nothing of it committed; the next transaction works");
}

/* Deferred work runs at the COMMIT, not before, on no connection. */
static void
test_deferred(void)
{
	const char	*p[2];
	char		 key[8];

	ok(db_begin() == USHER_OK && insert_later("d-a") == USHER_OK &&
	    insert("d-b") == USHER_OK, "begin, a deferred insert, a plain one");
	ok(sees("d-a") == 0 && sees("d-b") == 1, "in the transaction: the "
	    "deferred insert has not run, the plain one has");
	ok(committed("d-a") == 0 && committed("d-b") == 0,
	    "the observer sees neither before the commit");
	ok(db_commit() == USHER_OK, "db_commit with deferred work: ok");
	ok(committed("d-a") == 1 && committed("d-b") == 1,
	    "after it both are committed");

	/* Parameters are copied, NULL included (n's default is then 7). */
	snprintf(key, sizeof(key), "d-copy");
	p[0] = key;
	p[1] = NULL;
	ok(db_begin() == USHER_OK &&
	    db_exec_at_commit(&stmts[S_INSERT_N], p) == USHER_OK,
	    "a deferred insert with a NULL parameter");
	snprintf(key, sizeof(key), "d-gone");
	ok(db_commit() == USHER_OK && committed_n("d-copy", "7") == 1 &&
	    committed("d-gone") == 0, "its parameters were copied when it "
	    "was queued, NULL as NULL");
}

/*
 * Deferred statements run after the transaction's own, in the order
 * queued: steps 1 and 2 are queued before the row they update exists.
 */
static void
test_order(void)
{
	static const char *const steps[] = { "1", "2", NULL, "3" };
	const char	*p[2];
	enum usher_err	 rc;
	size_t		 i;

	rc = db_begin();
	p[0] = "ord";
	for (i = 0; i < nitems(steps) && rc == USHER_OK; i++) {
		p[1] = steps[i];
		if (steps[i] == NULL)
			rc = insert("ord");
		else
			rc = db_exec_at_commit(&stmts[S_STEP], p);
	}
	ok(rc == USHER_OK && sees("ord") == 1 && committed("ord") == 0,
	    "steps 1 and 2 queued, the row inserted, step 3 queued");
	ok(db_commit() == USHER_OK && committed_n("ord", "123") == 1,
	    "the steps ran after the insert, in the order queued (n = 123)");
}

/*
 * A deferred statement that fails: db_commit says how, the caller rolls
 * back, nothing of the transaction stays, no notification leaves with the
 * pipeline, and the connection serves the next transaction.
 */
static void
test_failed_commit(void)
{
	static const struct {
		int		 line;
		const char	*k, *n;		/* the deferred insert */
		enum usher_err	 want;
		const char	*constraint;	/* NULL: not checked */
	} t[] = {
		{ __LINE__, "a", "1", USHER_ERR_CONFLICT, PKEY },
		{ __LINE__, "f-neg", "-1", USHER_ERR_INTERNAL, NULL },
	};
	const char	*p[2];
	char		 plain[16], next[16];
	enum usher_err	 rc;
	size_t		 i;

	for (i = 0; i < nitems(t); i++) {
		snprintf(plain, sizeof(plain), "f-plain-%zu", i);
		snprintf(next, sizeof(next), "f-next-%zu", i);
		p[0] = t[i].k;
		p[1] = t[i].n;
		ok_at(t[i].line, db_begin() == USHER_OK &&
		    insert(plain) == USHER_OK &&
		    db_exec_at_commit(&stmts[S_INSERT_N], p) == USHER_OK,
		    "case %zu: a plain insert, a deferred one that will fail",
		    i);
		db_notify_later(CHAN);
		rc = db_commit();
		ok_at(t[i].line, rc == t[i].want, "case %zu: db_commit gives "
		    "%s (got %s)", i, usher_strerror(t[i].want),
		    usher_strerror(rc));
		if (t[i].constraint != NULL)
			ok_at(t[i].line, strcmp(db_constraint(),
			    t[i].constraint) == 0, "case %zu: db_constraint() "
			    "names %s (got '%s')", i, t[i].constraint,
			    db_constraint());
		db_rollback();
		ok_at(t[i].line, committed(plain) == 0, "case %zu: after "
		    "db_rollback nothing of the transaction is committed", i);
		ok_at(t[i].line, notified(QUIET_MS, 0) == 0, "case %zu: the "
		    "failed commit sent no notification", i);
		db_notify_flush();
		ok_at(t[i].line, notified(WAIT_MS, 1) == 1, "case %zu: the "
		    "one still pending leaves with db_notify_flush", i);
		ok_at(t[i].line, db_begin() == USHER_OK &&
		    insert(next) == USHER_OK && db_commit() == USHER_OK &&
		    committed(next) == 1, "case %zu: the next transaction "
		    "works", i);
	}
}

/*
 * BEGIN behind db_begin's back (which drops the queue itself), to see
 * whether what ran before it dropped the queue.
 */
static int
raw_begin(void)
{
	PGresult	*res;
	int		 done;

	res = PQexec(db_conn(), "BEGIN");
	done = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	return done;
}

/* db_rollback, db_begin and db_ready drop the queue. */
static void
test_dropped(void)
{
	ok(db_begin() == USHER_OK && insert_later("r-rolled") == USHER_OK,
	    "a deferred insert queued");
	db_rollback();
	ok(raw_begin() && insert("r-next") == USHER_OK &&
	    db_commit() == USHER_OK && committed("r-next") == 1 &&
	    committed("r-rolled") == 0, "after db_rollback, the next "
	    "transaction's commit does not run it");

	/* BEGIN in a transaction is only a warning for PostgreSQL */
	ok(db_begin() == USHER_OK && insert_later("r-begun") == USHER_OK &&
	    db_begin() == USHER_OK && db_commit() == USHER_OK &&
	    committed("r-begun") == 0, "db_begin drops the queue");

	ok(db_begin() == USHER_OK && insert_later("r-left") == USHER_OK &&
	    db_ready() == USHER_OK, "a transaction left open with deferred "
	    "work: db_ready rolls it back");
	ok(raw_begin() && db_commit() == USHER_OK &&
	    committed("r-left") == 0, "and drops the queue");
}

/* Outside a transaction, and past DEFER_MAX (4), it runs at once. */
static void
test_at_once(void)
{
	char		key[16];
	enum usher_err	rc;
	int		i, seen = 0, none = 0, done = 0;

	ok(insert_later("i-now") == USHER_OK && committed("i-now") == 1,
	    "db_exec_at_commit outside a transaction: committed at once");
	rc = db_begin();
	for (i = 1; i <= 5 && rc == USHER_OK; i++) {
		snprintf(key, sizeof(key), "i-%d", i);
		rc = insert_later(key);
	}
	for (i = 1; i <= 5; i++) {
		snprintf(key, sizeof(key), "i-%d", i);
		seen |= sees(key) == 1 ? 1 << i : 0;
		none += committed(key) == 0;
	}
	ok(rc == USHER_OK && seen == 1 << 5, "five deferred: only the fifth "
	    "ran at once, in the transaction");
	ok(none == 5, "the observer sees none of them before the commit");
	ok(db_commit() == USHER_OK, "db_commit: ok");
	for (i = 1; i <= 5; i++) {
		snprintf(key, sizeof(key), "i-%d", i);
		done += committed(key) == 1;
	}
	ok(done == 5, "all five committed");
}

static void
test_notify(void)
{
	int	got;

	(void)notified(0, 0);
	ok(db_begin() == USHER_OK && insert_later("n-row") == USHER_OK,
	    "a deferred insert");
	db_notify_later(CHAN);
	db_notify_later(CHAN);
	ok(notified(QUIET_MS, 0) == 0, "nothing notified before the commit");
	ok(db_commit() == USHER_OK, "db_commit: ok");
	got = notified(WAIT_MS, 1);
	ok(got == 1 && committed("n-row") == 1, "a notification after the "
	    "commit: the row is visible when it arrives");
	ok(notified(QUIET_MS, 0) == 0, "only one, though notified twice");
	db_notify_flush();
	ok(notified(QUIET_MS, 0) == 0, "the pipeline sent it: "
	    "db_notify_flush has nothing left to send");

	ok(db_begin() == USHER_OK && insert("n-plain") == USHER_OK,
	    "a transaction without deferred work");
	db_notify_later(CHAN);
	ok(db_commit() == USHER_OK && notified(WAIT_MS, 1) == 1 &&
	    committed("n-plain") == 1, "its commit sends the notification");

	db_notify_later(CHAN);
	db_notify_later(CHAN);
	ok(notified(QUIET_MS, 0) == 0, "outside a transaction: nothing "
	    "before db_notify_flush");
	db_notify_flush();
	ok(notified(WAIT_MS, 1) == 1 && notified(QUIET_MS, 0) == 0,
	    "db_notify_flush delivers it, once");
}

/*
 * A lost connection: retried once when idle, reported inside a
 * transaction (its work is lost with it), then db_ready reconnects.
 */
static void
test_reconnect(void)
{
	const char	*p[1] = { "a" };
	char		 pid[16], pid2[16];
	enum usher_err	 rc;
	unsigned	 gen;

	gen = db_generation();
	ok(backend_pid(pid) == USHER_OK && sees("a") == 1 &&
	    db_generation() == gen, "statements keep the connection's "
	    "generation");
	ok(terminate(pid), "the observer ends the library's idle backend");
	ok(backend_pid(pid2) == USHER_OK && strcmp(pid, pid2) != 0 &&
	    sees("a") == 1, "idle: the next statement reconnects and runs");
	ok(db_generation() != gen, "a reconnection bumps the generation");

	ok(db_begin() == USHER_OK && insert("l-in") == USHER_OK &&
	    insert_later("l-later") == USHER_OK &&
	    backend_pid(pid) == USHER_OK && terminate(pid),
	    "in a transaction with deferred work, the backend ends");
	ok(db_exec_found(&stmts[S_FIND], p) == USHER_ERR_UNAVAILABLE &&
	    backend_pid(pid2) == USHER_ERR_UNAVAILABLE,
	    "a statement then: unavailable, no silent reconnection");
	rc = db_commit();
	ok(rc == USHER_ERR_UNAVAILABLE, "db_commit with deferred work then: "
	    "unavailable (got %s)", usher_strerror(rc));
	db_rollback();
	ok(db_ready() == USHER_OK && backend_pid(pid2) == USHER_OK &&
	    strcmp(pid, pid2) != 0, "db_ready reconnects");
	ok(committed("l-in") == 0 && committed("l-later") == 0,
	    "nothing of the lost transaction is committed");

	ok(db_begin() == USHER_OK && insert_later("l-unseen") == USHER_OK &&
	    backend_pid(pid) == USHER_OK && terminate(pid),
	    "the backend ends unnoticed before the commit");
	ok(db_commit() == USHER_ERR_UNAVAILABLE,
	    "db_commit with deferred work: unavailable");
	db_rollback();
	ok(db_ready() == USHER_OK && committed("l-unseen") == 0,
	    "db_ready reconnects; nothing was committed");

	ok(db_begin() == USHER_OK && insert("l-plain") == USHER_OK &&
	    backend_pid(pid) == USHER_OK && terminate(pid) &&
	    insert("l-lost") == USHER_ERR_UNAVAILABLE,
	    "without deferred work: the backend ends, a statement fails");
	ok(db_commit() == USHER_ERR_UNAVAILABLE, "a plain db_commit then: "
	    "unavailable");
	db_rollback();
	ok(db_ready() == USHER_OK && committed("l-plain") == 0 &&
	    db_begin() == USHER_OK && insert("l-next") == USHER_OK &&
	    db_commit() == USHER_OK && committed("l-next") == 1,
	    "db_ready reconnects; the next transaction works");
}

static void
teardown(void)
{
	ok(db_exec(&stmts[S_DROP], NULL, NULL) == USHER_OK, "drop t_db");
	db_close();
	ok(db_ready() == USHER_ERR_INTERNAL, "after db_close: no conninfo, "
	    "no connection");
	PQfinish(obs);
}

int
main(void)
{
	const char	*info;

	info = getenv("USHER_TEST_PG");
	if (info == NULL || *info == '\0') {
		printf("1..0 # SKIP USHER_TEST_PG not set\n");
		return 0;
	}
	log_init("t_db", LOG_LVL_WARN);
	test_init(info);
	setup(info);
	test_exec();
	test_aborted_commit();
	test_deferred();
	test_order();
	test_failed_commit();
	test_dropped();
	test_at_once();
	test_notify();
	test_reconnect();
	teardown();
	return done_testing();
}
