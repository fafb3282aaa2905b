/* db.h -- the one PostgreSQL connection of a process: prepared statements,
 * reconnection and transactions. Knows nothing of HTTP. */
#ifndef USHER_DB_H
#define USHER_DB_H

#include <libpq-fe.h>

#include "err.h"

/*
 * A statement of a domain's SQL table. `gen` is private to db.c: it records
 * the connection generation the statement was prepared on, so that each
 * statement is prepared once per connection.
 */
struct db_stmt {
	const char	*name;
	const char	*sql;
	int		 nparams;
	unsigned	 gen;
};

enum usher_err	 db_init(const char *conninfo);
void		 db_close(void);
/*
 * Called before each request: reconnects a broken connection and rolls
 * back a transaction a previous request left open.
 */
enum usher_err	 db_ready(void);
/*
 * Run a statement with text parameters (NULL: SQL NULL). On USHER_OK the
 * caller owns *res (PQclear); res may be NULL. Unique violations give
 * USHER_ERR_CONFLICT (db_constraint() names the constraint); a lost
 * connection gives USHER_ERR_UNAVAILABLE.
 */
enum usher_err	 db_exec(struct db_stmt *, const char *const *params,
		    PGresult **res);
/* Run a statement that returns rows; USHER_ERR_NOT_FOUND when none. */
enum usher_err	 db_exec_found(struct db_stmt *, const char *const *params);
const char	*db_constraint(void);
/*
 * Run a statement whose rows nobody reads as part of the open transaction,
 * sent with its COMMIT in one round trip (a libpq pipeline): queueing a
 * mail then costs the request no wait of its own. Its errors (a unique
 * violation gives USHER_ERR_CONFLICT) are db_commit()'s. Outside a
 * transaction, or beyond a few per transaction, it runs at once.
 * Parameters are copied.
 */
enum usher_err	 db_exec_at_commit(struct db_stmt *,
		    const char *const *params);
enum usher_err	 db_begin(void);
enum usher_err	 db_commit(void);
/* Roll back the open transaction, if any, and drop deferred statements. */
void		 db_rollback(void);
/*
 * NOTIFY `channel` once the current work is committed: with the COMMIT
 * that has deferred statements (in its pipeline, after it), or else by
 * db_notify_flush(). Never inside the transaction: PostgreSQL serializes
 * the commits of all transactions that notify. A static string; at most a
 * few distinct channels.
 */
void		 db_notify_later(const char *channel);
/* Send the pending notifications (the HTTP loop calls it after each
 * request; tools before they exit). Failures are logged only. */
void		 db_notify_flush(void);

/* The raw connection, for usherctl's migrations and the mailer's LISTEN. */
PGconn		*db_conn(void);
/* Bumped on each (re)connection: what a session-level setting such as
 * LISTEN must be redone after. */
unsigned	 db_generation(void);

#endif /* USHER_DB_H */
