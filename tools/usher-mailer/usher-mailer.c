/* usher-mailer.c -- the mail worker: delivers the outbox, woken by
 * LISTEN/NOTIFY and by a periodic poll; SIGTERM finishes the batch in hand */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "db.h"
#include "log.h"
#include "mail.h"
#include "mailtx.h"
#include "tmpl.h"

static volatile sig_atomic_t	stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a signal ends the wait in poll(2) at once */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* LISTEN, once per connection: after a reconnection it is gone. */
static int
listen_mail(void)
{
	static unsigned	 listening;	/* the connection's generation */
	PGresult	*res;
	int		 ok;

	if (db_ready() != USHER_OK)
		return 0;
	if (listening == db_generation())
		return 1;
	res = PQexec(db_conn(), "LISTEN usher_mail");
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (ok)
		listening = db_generation();
	return ok;
}

/* Sleep until a notification, a signal, or `secs` seconds. */
static void
wait_for_mail(long secs)
{
	struct pollfd	 pfd;
	PGnotify	*n;
	PGconn		*c = db_conn();

	pfd.fd = c != NULL ? PQsocket(c) : -1;
	pfd.events = POLLIN;
	if (pfd.fd < 0 || stop)
		return;
	if (poll(&pfd, 1, (int)(secs * 1000)) > 0 && PQconsumeInput(c))
		while ((n = PQnotifies(c)) != NULL)
			PQfreemem(n);
}

/* One round: deliver what is due, then how long to sleep. */
static long
round_once(struct mailtx *tx)
{
	struct mail_stats	st;
	long			secs;

	if (!listen_mail()) {
		log_warn("database unavailable; retrying");
		return 5;
	}
	if (mail_flush(tx, &stop, 0, &st) != USHER_OK)
		return 5;
	if (st.sent + st.retry + st.failed + st.skipped > 0)
		log_info("sent %u, to retry %u, failed %u, skipped %u",
		    st.sent, st.retry, st.failed, st.skipped);
	if (mail_next_due(&secs) != USHER_OK)
		return 5;
	/* a reconnection during the round dropped the LISTEN */
	if (!listen_mail())
		return 5;
	if (secs < 0 || secs > (long)cfg.mail_poll)
		secs = cfg.mail_poll;
	return secs;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: usher-mailer [-c config]\n"
	    "Delivers usher's mail outbox until SIGTERM; see usher-mailer(8).\n");
}

int
main(int argc, char *argv[])
{
	struct mailtx	*tx = NULL;
	const char	*config = NULL;
	char		 err[256];
	int		 ex = 1;

	if (argc == 3 && strcmp(argv[1], "-c") == 0)
		config = argv[2];
	else if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	} else if (argc != 1) {
		usage(stderr);
		return 2;
	}
	log_init("usher-mailer", LOG_LVL_INFO);
	if (cfg_load(&cfg, config, NULL, err, sizeof(err)) != USHER_OK) {
		log_error("configuration: %s", err);
		return 1;
	}
	log_init("usher-mailer", cfg.log_level);
	signals();
	if (tmpl_load(cfg.templates_dir) != USHER_OK ||
	    mail_open_transport(&tx) != USHER_OK)
		goto out;
	/* a database down at start is an outage like any other: wait */
	(void)db_init(cfg.database_url);
	log_info("delivering by %s", cfg.mail_transport);
	while (!stop)
		wait_for_mail(round_once(tx));
	log_info("stopping");
	ex = 0;
out:
	mailtx_close(tx);
	tmpl_free();
	db_close();
	cfg_free(&cfg);
	return ex;
}
