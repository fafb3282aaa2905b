/* t_mailtx.c -- unit tests of lib/mailtx.c: the file transport, smtp
 * settings, envelope checks and how failures are classified */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mailtx.h"
#include "tap.h"

#define WHYSZ	256

/* A message with CRLF line ends, a NUL byte and a leading dot. */
static const char	msg1[] = "From: a@example.com\r\nTo: b@example.com\r\n"
			    "Subject: one\r\n\r\nHello\0there.\r\n.dot\r\n";
static const char	msg2[] = "Subject: two\r\n\r\nSecond.\r\n";

static char	base[64];	/* mkdtemp folder; the spool is inside */
static char	spool[128];

static void
setup_dirs(void)
{
	snprintf(base, sizeof(base), "/tmp/t_mailtx.XXXXXX");
	if (mkdtemp(base) == NULL)
		bail_out("mkdtemp");
	snprintf(spool, sizeof(spool), "%s/spool", base);
	if (mkdir(spool, 0750) == -1)
		bail_out("mkdir spool");
}

/* 1 when the file at path holds exactly len bytes of want. */
static int
file_is(const char *path, const char *want, size_t len)
{
	char	 buf[4096];
	FILE	*f;
	size_t	 n;

	f = fopen(path, "rb");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return n == len && memcmp(buf, want, len) == 0;
}

/* Entries of dir but . and .. whose names hold must_contain (NULL: all). */
static int
count_entries(const char *dir, const char *must_contain)
{
	struct dirent	*e;
	DIR		*d;
	int		 n = 0;

	d = opendir(dir);
	if (d == NULL)
		return -1;
	for (;;) {
		e = readdir(d);
		if (e == NULL)
			break;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (must_contain == NULL ||
		    strstr(e->d_name, must_contain) != NULL)
			n++;
	}
	closedir(d);
	return n;
}

static void
rm_tree(void)
{
	struct dirent	*e;
	DIR		*d;

	d = opendir(spool);
	if (d == NULL)
		bail_out("opendir spool");
	for (;;) {
		e = readdir(d);
		if (e == NULL)
			break;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	if (rmdir(spool) == -1 || rmdir(base) == -1)
		bail_out("rmdir");
}

static void
test_file_open(void)
{
	struct mailtx_cfg	 cfg;
	struct mailtx		*tx;
	char			 path[160];

	memset(&cfg, 0, sizeof(cfg));
	snprintf(path, sizeof(path), "%s/missing", base);
	cfg.spool = path;
	ok(mailtx_open("file", &cfg, &tx) == USHER_ERR_CONFIG && tx == NULL,
	    "file: missing spool is USHER_ERR_CONFIG");
	cfg.spool = NULL;
	ok(mailtx_open("file", &cfg, &tx) == USHER_ERR_CONFIG,
	    "file: no spool is USHER_ERR_CONFIG");
	snprintf(path, sizeof(path), "%s/regular", base);
	if (creat(path, 0600) == -1)
		bail_out("creat");
	cfg.spool = path;
	ok(mailtx_open("file", &cfg, &tx) == USHER_ERR_CONFIG,
	    "file: a regular file as spool is USHER_ERR_CONFIG");
	unlink(path);
}

static void
test_file_send(void)
{
	struct mailtx_cfg	 cfg;
	struct mailtx		*tx;
	char			 why[WHYSZ], path[192];
	int			 fd;

	memset(&cfg, 0, sizeof(cfg));
	cfg.spool = spool;
	if (mailtx_open("file", &cfg, &tx) != USHER_OK)
		bail_out("file: open");
	ok(mailtx_send(tx, "1", "a@example.com", "b@example.com", msg1,
	    sizeof(msg1) - 1, why, sizeof(why)) == MAILTX_SENT && why[0] == 0,
	    "file: message 1 sent");
	ok(mailtx_send(tx, "42", "a@example.com", "b@example.com", msg2,
	    sizeof(msg2) - 1, why, sizeof(why)) == MAILTX_SENT,
	    "file: message 42 sent");
	snprintf(path, sizeof(path), "%s/1.eml", spool);
	ok(file_is(path, msg1, sizeof(msg1) - 1), "file: 1.eml is the message");
	snprintf(path, sizeof(path), "%s/42.eml", spool);
	ok(file_is(path, msg2, sizeof(msg2) - 1),
	    "file: 42.eml is the message");

	/* A retry overwrites; a stale temporary file does not block it. */
	ok(mailtx_send(tx, "1", "", "b@example.com", msg2, sizeof(msg2) - 1,
	    why, sizeof(why)) == MAILTX_SENT, "file: retry of 1 sent");
	snprintf(path, sizeof(path), "%s/1.eml", spool);
	ok(file_is(path, msg2, sizeof(msg2) - 1),
	    "file: retry overwrote 1.eml");
	snprintf(path, sizeof(path), "%s/.7.eml.tmp", spool);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	if (fd == -1 || write(fd, "partial", 7) != 7 || close(fd) == -1)
		bail_out("stale tmp");
	ok(mailtx_send(tx, "7", "", "b@example.com", msg1, sizeof(msg1) - 1,
	    why, sizeof(why)) == MAILTX_SENT, "file: sent over a stale .tmp");
	snprintf(path, sizeof(path), "%s/7.eml", spool);
	ok(file_is(path, msg1, sizeof(msg1) - 1), "file: 7.eml is whole");
	ok(mailtx_send(tx, "8", "", "b@example.com", NULL, 0, why,
	    sizeof(why)) == MAILTX_SENT, "file: empty message sent");
	snprintf(path, sizeof(path), "%s/8.eml", spool);
	ok(file_is(path, "", 0), "file: 8.eml is empty");
	mailtx_close(tx);
}

static void
test_file_ids(void)
{
	static const struct {
		int		 line;
		const char	*id;
	} t[] = {
		{ __LINE__, "../x" },
		{ __LINE__, "" },
		{ __LINE__, NULL },
		{ __LINE__, "12a" },
		{ __LINE__, "1/2" },
		{ __LINE__, "-1" },
		{ __LINE__, " 1" },
		{ __LINE__, "1.eml" },
		{ __LINE__, "123456789012345678901" },	/* 21 digits */
	};
	struct mailtx_cfg	 cfg;
	struct mailtx		*tx;
	char			 why[WHYSZ];
	size_t			 i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.spool = spool;
	if (mailtx_open("file", &cfg, &tx) != USHER_OK)
		bail_out("file: open");
	for (i = 0; i < nitems(t); i++) {
		why[0] = '\0';
		ok_at(t[i].line, mailtx_send(tx, t[i].id, "", "b@example.com",
		    msg1, sizeof(msg1) - 1, why, sizeof(why)) ==
		    MAILTX_PERMANENT && why[0] != '\0',
		    "file: id \"%s\" is PERMANENT with a reason",
		    t[i].id != NULL ? t[i].id : "(null)");
	}
	ok(mailtx_send(tx, "x", "", "b@example.com", msg1, sizeof(msg1) - 1,
	    NULL, 0) == MAILTX_PERMANENT, "file: no why buffer is fine");
	memset(why, 'X', sizeof(why));
	ok(mailtx_send(tx, "x", "", "b@example.com", msg1, sizeof(msg1) - 1,
	    why, 8) == MAILTX_PERMANENT && strlen(why) <= 7 && why[8] == 'X',
	    "file: why truncated to its size (\"%s\")", why);
	mailtx_close(tx);
	ok(count_entries(base, NULL) == 1, "file: nothing written beside "
	    "the spool");
	ok(count_entries(spool, NULL) == 4 && count_entries(spool, "tmp") == 0,
	    "file: spool holds 1, 7, 8 and 42.eml, no .tmp");
}

static void
test_file_gone(void)
{
	struct mailtx_cfg	 cfg;
	struct mailtx		*tx;
	char			 why[WHYSZ];

	memset(&cfg, 0, sizeof(cfg));
	cfg.spool = spool;
	if (mailtx_open("file", &cfg, &tx) != USHER_OK)
		bail_out("file: open");
	rm_tree();
	why[0] = '\0';
	ok(mailtx_send(tx, "9", "", "b@example.com", msg1, sizeof(msg1) - 1,
	    why, sizeof(why)) == MAILTX_TEMPORARY && why[0] != '\0',
	    "file: spool removed after open is TEMPORARY (%s)", why);
	mailtx_close(tx);
}

static void
test_smtp_open(void)
{
	static const struct {
		int		 line;
		const char	*name, *url, *ca, *helo;
		enum usher_err	 want;
	} t[] = {
		{ __LINE__, "sendmail", "smtp://x", NULL, NULL,
		    USHER_ERR_CONFIG },
		{ __LINE__, NULL, "smtp://x", NULL, NULL, USHER_ERR_CONFIG },
		{ __LINE__, "SMTP", "smtp://x", NULL, NULL, USHER_ERR_CONFIG },
		{ __LINE__, "smtp", "http://x", NULL, NULL, USHER_ERR_CONFIG },
		{ __LINE__, "smtp", NULL, NULL, NULL, USHER_ERR_CONFIG },
		{ __LINE__, "smtp", "", NULL, NULL, USHER_ERR_CONFIG },
		{ __LINE__, "smtp", "smtp://", NULL, NULL, USHER_ERR_CONFIG },
		{ __LINE__, "smtp", "smtp:x", NULL, NULL, USHER_ERR_CONFIG },
		{ __LINE__, "smtp", "smtp://u:pw@mail.example.com", NULL,
		    NULL, USHER_ERR_CONFIG },
		{ __LINE__, "smtp", "smtp://mail.example.com",
		    "/nonexistent/ca.pem", NULL, USHER_ERR_CONFIG },
		{ __LINE__, "smtp", "smtp://mail.example.com", NULL,
		    "bad name\r\nMAIL", USHER_ERR_CONFIG },
		{ __LINE__, "smtp", "smtp://mail.example.com:587", NULL,
		    NULL, USHER_OK },
		{ __LINE__, "smtp", "SMTPS://mail.example.com", NULL,
		    "usher.example.com", USHER_OK },
		{ __LINE__, "smtp", "smtps://mail.example.com:465/ehlo.name",
		    NULL, "usher.example.com", USHER_OK },
	};
	struct mailtx_cfg	 cfg;
	struct mailtx		*tx;
	enum usher_err		 rc;
	size_t			 i;

	for (i = 0; i < nitems(t); i++) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.url = t[i].url;
		cfg.ca_file = t[i].ca;
		cfg.helo = t[i].helo;
		cfg.timeout = 2;
		rc = mailtx_open(t[i].name, &cfg, &tx);
		ok_at(t[i].line, rc == t[i].want &&
		    (rc == USHER_OK) == (tx != NULL), "open(%s, %s) is %s",
		    t[i].name != NULL ? t[i].name : "(null)",
		    t[i].url != NULL ? t[i].url : "(null)",
		    usher_strerror(t[i].want));
		mailtx_close(tx);
	}
	mailtx_close(NULL);
}

/* A TCP port on 127.0.0.1 where nothing listens (just freed). */
static int
closed_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			s, port;

	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s == -1 || bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1)
		bail_out("closed_port");
	port = ntohs(sin.sin_port);
	close(s);
	return port;
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Open an smtp transport to 127.0.0.1:port with timeout 2. */
static struct mailtx *
smtp_to(int port)
{
	struct mailtx_cfg	 cfg;
	struct mailtx		*tx;
	char			 url[64];

	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.url = url;
	cfg.user = "mailer";
	cfg.password = "s3cret-Pass";
	cfg.timeout = 2;
	cfg.helo = "usher.test";
	if (mailtx_open("smtp", &cfg, &tx) != USHER_OK)
		bail_out("smtp: open");
	return tx;
}

static void
test_smtp_refused(void)
{
	struct mailtx	*tx;
	char		 why[WHYSZ];
	double		 t0;
	int		 rc;

	tx = smtp_to(closed_port());
	t0 = now();
	why[0] = '\0';
	rc = mailtx_send(tx, "1", "a@example.com", "b@example.com", msg1,
	    sizeof(msg1) - 1, why, sizeof(why));
	ok(rc == MAILTX_TEMPORARY && why[0] != '\0' && now() - t0 < 3,
	    "smtp: nothing listening is TEMPORARY at once (%s)", why);
	ok(strstr(why, "s3cret") == NULL, "smtp: no password in why");
	rc = mailtx_send(tx, "2", "a@example.com", "b@example.com", msg1,
	    sizeof(msg1) - 1, why, sizeof(why));
	ok(rc == MAILTX_TEMPORARY, "smtp: and again on the next message");
	mailtx_close(tx);
}

static void
test_smtp_envelope(void)
{
	static const struct {
		int		 line;
		const char	*from, *to;
	} t[] = {
		{ __LINE__, "a@example.com", "b@example.com\r\nRCPT TO:<c@x>" },
		{ __LINE__, "a@example.com", "b@example.com\n" },
		{ __LINE__, "a@example.com", "b@example.com\r" },
		{ __LINE__, "a@example.com", "b@example.com> SIZE=1" },
		{ __LINE__, "a@example.com", "<b@example.com" },
		{ __LINE__, "a@example.com", "" },
		{ __LINE__, "a@example.com", NULL },
		{ __LINE__, "a@example.com\r\nDATA", "b@example.com" },
		{ __LINE__, "a@example.com>", "b@example.com" },
		{ __LINE__, NULL, "b@example.com" },
	};
	struct mailtx	*tx;
	char		 why[WHYSZ];
	size_t		 i;

	/* Nothing listens: a check after connecting would say TEMPORARY. */
	tx = smtp_to(closed_port());
	for (i = 0; i < nitems(t); i++) {
		why[0] = '\0';
		ok_at(t[i].line, mailtx_send(tx, "1", t[i].from, t[i].to,
		    msg1, sizeof(msg1) - 1, why, sizeof(why)) ==
		    MAILTX_PERMANENT && why[0] != '\0' &&
		    strpbrk(why, "\r\n") == NULL,
		    "smtp: envelope case %zu is PERMANENT", i);
	}
	mailtx_close(tx);
}

/*
 * A scripted plain-text SMTP server for one connection, in a child: it
 * greets with `greeting`, answers EHLO with `ehlo` and refuses STARTTLS.
 * It exits 1 if the client sent anything else (MAIL, AUTH, RCPT ...) in
 * plain text, else 0.
 */
static void
fake_serve(int ls, const char *greeting, const char *ehlo)
{
	char		 buf[1024];
	const char	*r;
	char		*nl;
	size_t		 have = 0;
	ssize_t		 n;
	int		 c, leaked = 0;

	alarm(10);
	c = accept(ls, NULL, NULL);
	if (c == -1)
		_exit(2);
	if (write(c, greeting, strlen(greeting)) == -1)
		_exit(2);
	for (;;) {
		n = read(c, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = strchr(buf, '\n')) != NULL) {
			r = "500 5.5.2 what\r\n";
			if (strncmp(buf, "EHLO", 4) == 0 ||
			    strncmp(buf, "HELO", 4) == 0)
				r = ehlo;
			else if (strncmp(buf, "STARTTLS", 8) == 0)
				r = "502 5.5.1 not here\r\n";
			else if (strncmp(buf, "QUIT", 4) == 0)
				r = "221 bye\r\n";
			else
				leaked = 1;
			if (write(c, r, strlen(r)) == -1)
				_exit(2);
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have + 1);
		}
	}
	_exit(leaked);
}

/* Run the fake server; the result of one send and why. */
static enum mailtx_result
fake_send(const char *greeting, const char *ehlo, char *why, size_t whysz,
    int *leaked)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	struct mailtx		*tx;
	enum mailtx_result	 rc;
	pid_t			 pid;
	int			 ls, status;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ls == -1 || bind(ls, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(ls, 1) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sin, &len) == -1)
		bail_out("fake server socket");
	fflush(stdout);
	pid = fork();
	if (pid == -1)
		bail_out("fork");
	if (pid == 0)
		fake_serve(ls, greeting, ehlo);
	close(ls);
	tx = smtp_to(ntohs(sin.sin_port));
	rc = mailtx_send(tx, "1", "a@example.com", "b@example.com", msg1,
	    sizeof(msg1) - 1, why, whysz);
	mailtx_close(tx);
	if (waitpid(pid, &status, 0) == -1)
		bail_out("waitpid");
	*leaked = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	return rc;
}

static void
test_smtp_classify(void)
{
	static const struct {
		int			 line;
		const char		*greeting, *ehlo, *code;
	} t[] = {
		/* No STARTTLS offered: never goes on in plain text. */
		{ __LINE__, "220 fake.test ESMTP\r\n",
		    "250-fake.test\r\n250 AUTH PLAIN LOGIN\r\n", "STARTTLS" },
		/* STARTTLS offered, then refused with a 5xx. */
		{ __LINE__, "220 fake.test ESMTP\r\n",
		    "250-fake.test\r\n250 STARTTLS\r\n", "502" },
		/* Refused at the greeting: the server's, not the message's. */
		{ __LINE__, "554 5.7.1 no service\r\n", "", "554" },
		{ __LINE__, "421 4.3.2 busy\r\n", "", "421" },
	};
	char	why[WHYSZ];
	size_t	i;
	int	leaked;

	for (i = 0; i < nitems(t); i++) {
		why[0] = '\0';
		ok_at(t[i].line, fake_send(t[i].greeting, t[i].ehlo, why,
		    sizeof(why), &leaked) == MAILTX_TEMPORARY &&
		    strstr(why, t[i].code) != NULL && !leaked,
		    "smtp: fake server case %zu is TEMPORARY, nothing sent in "
		    "plain text (%s)", i, why);
	}
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_init("t_mailtx", LOG_LVL_ERROR);
	setup_dirs();
	test_file_open();
	test_file_send();
	test_file_ids();
	test_file_gone();
	test_smtp_open();
	test_smtp_refused();
	test_smtp_envelope();
	test_smtp_classify();
	return done_testing();
}
