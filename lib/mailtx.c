/* mailtx.c -- mail transports behind one small table: a spool folder of
 * .eml files, or SMTP over libcurl with TLS always required */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "limits.h"
#include "log.h"
#include "mailtx.h"
#include "xmalloc.h"

#define ID_MAX		20	/* digits of a file transport id (a uint64) */
#define TIMEOUT_DEFAULT	30	/* seconds per message when cfg says 0 */
#define CONNECT_MAX	10	/* seconds to connect, at most */
#define IDLE_MAX	60L	/* seconds an idle connection is kept for
				   reuse: well under the 5 minutes a server
				   waits for the next command, RFC 5321
				   4.5.3.2.7 */
#define REPLY_MAX	256	/* bytes kept of the last SMTP reply line */

/*
 * A transport, as OpenSMTPD's queue backends: open() checks the settings
 * and makes the state, send() delivers one message, close() frees the
 * state (and accepts NULL).
 */
struct txops {
	const char		*name;
	enum usher_err		(*open)(const struct mailtx_cfg *, void **);
	enum mailtx_result	(*send)(void *, const char *, const char *,
				    const char *, const char *, size_t,
				    char *, size_t);
	void			(*close)(void *);
};

struct mailtx {
	const struct txops	*ops;
	void			*state;
};

/* The file transport: a folder that must exist. */
struct filetx {
	char	*spool;
};

/* SMTP command last sent: says which stage of the session a reply ends. */
enum phase {
	PH_CONNECT,	/* no command yet: connection, greeting, TLS */
	PH_HELLO,	/* EHLO or HELO */
	PH_STARTTLS,
	PH_AUTH,	/* AUTH and its continuation lines */
	PH_MAIL,
	PH_RCPT,
	PH_DATA,	/* DATA, the message and its final dot */
	PH__MAX
};

static const char *const phase_names[PH__MAX] = {
	"connect", "EHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA"
};

/* The SMTP transport: one easy handle, so one connection, for its life. */
struct smtptx {
	CURL		*curl;
	const char	*body;		/* rest of the message being sent */
	size_t		 left;
	int		 fresh;		/* next message on a new connection */
	enum phase	 phase;		/* of the command last sent */
	int		 sasl;		/* AUTH exchange under way */
	int		 quit;		/* QUIT sent */
	char		 reply[REPLY_MAX];	/* last reply line, one line */
	char		 err[CURL_ERROR_SIZE];
};

/*
 * Write the formatted text into why (size whysz), if any, as one line:
 * control characters (CR, LF, ...) become spaces and trailing spaces go.
 */
static void
why_set(char *why, size_t whysz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
why_set(char *why, size_t whysz, const char *fmt, ...)
{
	va_list	ap;
	size_t	i, end;

	if (why == NULL || whysz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	end = 0;
	for (i = 0; why[i] != '\0'; i++) {
		if ((unsigned char)why[i] < ' ' || why[i] == 0x7f)
			why[i] = ' ';
		if (why[i] != ' ')
			end = i + 1;
	}
	why[end] = '\0';
}

/* --------------------------------------------------------------- file */

/* 1 when id is 1 to ID_MAX decimal digits, so a safe file name. */
static int
valid_id(const char *id)
{
	size_t	i;

	if (id == NULL || id[0] == '\0')
		return 0;
	for (i = 0; id[i] != '\0'; i++)
		if (i == ID_MAX || id[i] < '0' || id[i] > '9')
			return 0;
	return 1;
}

static enum usher_err
file_open(const struct mailtx_cfg *cfg, void **out)
{
	struct filetx	*f;
	struct stat	 st;

	if (cfg->spool == NULL || cfg->spool[0] == '\0') {
		log_error("file transport without a spool folder");
		return USHER_ERR_CONFIG;
	}
	if (stat(cfg->spool, &st) == -1) {
		log_error("spool %s: %s", cfg->spool, strerror(errno));
		return USHER_ERR_CONFIG;
	}
	if (!S_ISDIR(st.st_mode) || access(cfg->spool, W_OK | X_OK) == -1) {
		log_error("spool %s: not a writable folder", cfg->spool);
		return USHER_ERR_CONFIG;
	}
	f = xcalloc(1, sizeof(*f));
	f->spool = xstrdup(cfg->spool);
	*out = f;
	return USHER_OK;
}

/*
 * Create the temporary file exclusively. One left by a crash is stale
 * (the id is sent by one worker at a time): remove it and try once more,
 * else every retry of this id would fail.
 */
static int
file_create(const char *tmp)
{
	int	fd;

	fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0640);
	if (fd == -1 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0640);
	return fd;
}

/* Write all of buf to fd and flush it to the disk; 0, or -1 and errno. */
static int
file_write(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return fsync(fd);
}

/* Make the rename itself durable; 0, or -1 and errno. */
static int
file_sync_dir(const char *dir)
{
	int	fd, rc;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Write msg to <spool>/<id>.eml atomically: a reader sees the whole file
 * or none. A retry after a crash overwrites the file (rename(2) does).
 * An I/O error is TEMPORARY and leaves no temporary file behind.
 */
static enum mailtx_result
file_send(void *state, const char *id, const char *from, const char *to,
    const char *msg, size_t len, char *why, size_t whysz)
{
	struct filetx		*f = state;
	enum mailtx_result	 rc = MAILTX_TEMPORARY;
	const char		*step, *what;
	char			*tmp, *dst;
	int			 fd, closed, made = 0;

	(void)from;
	(void)to;
	if (!valid_id(id)) {
		why_set(why, whysz, "file transport: id is not a number");
		return MAILTX_PERMANENT;
	}
	tmp = xasprintf("%s/.%s.eml.tmp", f->spool, id);
	dst = xasprintf("%s/%s.eml", f->spool, id);
	what = tmp;
	step = "create";
	fd = file_create(tmp);
	if (fd == -1)
		goto out;
	made = 1;
	step = "write";
	if (file_write(fd, msg, len) == -1)
		goto out;
	step = "close";
	closed = close(fd);
	fd = -1;
	if (closed == -1)
		goto out;
	step = "rename";
	if (rename(tmp, dst) == -1)
		goto out;
	made = 0;
	step = "sync";
	what = f->spool;
	if (file_sync_dir(f->spool) == -1)
		goto out;
	rc = MAILTX_SENT;
out:
	if (rc != MAILTX_SENT)
		why_set(why, whysz, "%s %s: %s", step, what, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (made)
		unlink(tmp);
	free(tmp);
	free(dst);
	return rc;
}

static void
file_close(void *state)
{
	struct filetx	*f = state;

	if (f == NULL)
		return;
	free(f->spool);
	free(f);
}

/* --------------------------------------------------------------- smtp */

/* curl_global_init(3) once per process; the program is single-threaded. */
static enum usher_err
curl_init_once(void)
{
	static int	done;
	CURLcode	c;

	if (done)
		return USHER_OK;
	c = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (c != CURLE_OK) {
		log_error("curl_global_init: %s", curl_easy_strerror(c));
		return USHER_ERR_INTERNAL;
	}
	done = 1;
	return USHER_OK;
}

/* 1 when s is a host name or an address literal, fit for EHLO. */
static int
valid_helo(const char *s)
{
	size_t	i;

	if (s[0] == '\0' || strlen(s) > 255)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:", s[i]) == NULL)
			return 0;
	return 1;
}

/*
 * Check the parsed URL: smtp or smtps, no credentials in it (they belong
 * in user and password, which are never logged), and put the EHLO name
 * in its path, where libcurl takes it from, unless it has a path.
 */
static enum usher_err
smtp_url_check(CURLU *u, const char *helo)
{
	char		*part = NULL;
	enum usher_err	 rc = USHER_ERR_CONFIG;
	int		 haspath;

	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
		log_error("smtp url: credentials go in user and password");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PATH, &part, 0) != CURLUE_OK)
		goto out;
	haspath = strcmp(part, "") != 0 && strcmp(part, "/") != 0;
	rc = USHER_OK;
	if (helo == NULL)
		goto out;
	if (!valid_helo(helo)) {
		log_error("smtp helo: not a host name");
		rc = USHER_ERR_CONFIG;
	} else if (haspath)
		log_warn("smtp url has a path: it names EHLO, helo ignored");
	else if (curl_url_set(u, CURLUPART_PATH, helo, 0) != CURLUE_OK)
		rc = USHER_ERR_INTERNAL;
out:
	curl_free(part);
	return rc;
}

/*
 * The URL libcurl is given, in *out (the caller frees it): the
 * configured smtp:// or smtps:// URL with the EHLO name as its path.
 */
static enum usher_err
smtp_url(const struct mailtx_cfg *cfg, char **out)
{
	CURLU		*u;
	char		*s = NULL;
	enum usher_err	 rc = USHER_ERR_CONFIG;

	*out = NULL;
	if (cfg->url == NULL || (strncasecmp(cfg->url, "smtp://", 7) != 0 &&
	    strncasecmp(cfg->url, "smtps://", 8) != 0)) {
		log_error("smtp url: must start with smtp:// or smtps://");
		return USHER_ERR_CONFIG;
	}
	u = curl_url();
	if (u == NULL)
		return USHER_ERR_INTERNAL;
	if (curl_url_set(u, CURLUPART_URL, cfg->url, 0) != CURLUE_OK) {
		log_error("smtp url: malformed");
		goto out;
	}
	rc = smtp_url_check(u, cfg->helo);
	if (rc != USHER_OK)
		goto out;
	rc = USHER_ERR_INTERNAL;
	if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		goto out;
	*out = xstrdup(s);
	rc = USHER_OK;
out:
	curl_free(s);
	curl_url_cleanup(u);
	return rc;
}

/* CURLOPT_READFUNCTION: the next piece of the message. */
static size_t
smtp_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct smtptx	*s = arg;
	size_t		 n;

	n = size * nitems;
	if (n > s->left)
		n = s->left;
	memcpy(buf, s->body, n);
	s->body += n;
	s->left -= n;
	return n;
}

/* 1 when the command line starts with word (case-insensitively). */
static int
is_cmd(const char *line, size_t len, const char *word)
{
	size_t	n;

	n = strlen(word);
	return len >= n && strncasecmp(line, word, n) == 0;
}

/*
 * Follow the command sent. Lines sent during an AUTH exchange are base64
 * of the credentials: never looked at, never copied.
 */
static void
smtp_saw_cmd(struct smtptx *s, const char *line, size_t len)
{
	if (s->sasl)
		return;
	if (is_cmd(line, len, "EHLO ") || is_cmd(line, len, "HELO "))
		s->phase = PH_HELLO;
	else if (is_cmd(line, len, "STARTTLS\r\n"))
		s->phase = PH_STARTTLS;
	else if (is_cmd(line, len, "AUTH ")) {
		s->phase = PH_AUTH;
		s->sasl = 1;
	} else if (is_cmd(line, len, "MAIL FROM:"))
		s->phase = PH_MAIL;
	else if (is_cmd(line, len, "RCPT TO:"))
		s->phase = PH_RCPT;
	else if (is_cmd(line, len, "DATA\r\n"))
		s->phase = PH_DATA;
	else if (is_cmd(line, len, "QUIT\r\n"))
		s->quit = 1;
}

/*
 * Keep the reply line, the server's text, as one line. Not the reply to
 * QUIT, which libcurl sends when it drops the connection after an error
 * (and leaves out of CURLINFO_RESPONSE_CODE too). A 334 goes on with an
 * AUTH exchange, any other reply ends it (RFC 4954 4).
 */
static void
smtp_saw_reply(struct smtptx *s, const char *line, size_t len)
{
	if (s->quit)
		return;
	s->sasl = s->sasl && len >= 3 && memcmp(line, "334", 3) == 0;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= sizeof(s->reply))
		len = sizeof(s->reply) - 1;
	memcpy(s->reply, line, len);
	s->reply[len] = '\0';
}

/*
 * CURLOPT_DEBUGFUNCTION: libcurl hands the SMTP commands sent and the
 * reply lines received here, nothing reaches stderr.
 */
static int
smtp_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	(void)h;
	if (type == CURLINFO_HEADER_OUT)
		smtp_saw_cmd(arg, data, size);
	else if (type == CURLINFO_HEADER_IN)
		smtp_saw_reply(arg, data, size);
	return 0;
}

/* TLS always, with the peer's certificate and name checked. */
static CURLcode
smtp_set_tls(struct smtptx *s, const struct mailtx_cfg *cfg)
{
	CURLcode	c;

	c = curl_easy_setopt(s->curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_SSLVERSION,
		    (long)CURL_SSLVERSION_TLSv1_2);
	if (c == CURLE_OK && cfg->ca_file != NULL)
		c = curl_easy_setopt(s->curl, CURLOPT_CAINFO, cfg->ca_file);
	if (c == CURLE_OK && cfg->user != NULL)
		c = curl_easy_setopt(s->curl, CURLOPT_USERNAME, cfg->user);
	if (c == CURLE_OK && cfg->user != NULL)
		c = curl_easy_setopt(s->curl, CURLOPT_PASSWORD,
		    cfg->password != NULL ? cfg->password : "");
	return c;
}

/* Time limits and connection reuse. */
static CURLcode
smtp_set_conn(struct smtptx *s, const struct mailtx_cfg *cfg)
{
	CURLcode	c;
	long		t;

	t = cfg->timeout > 0 ? (long)cfg->timeout : TIMEOUT_DEFAULT;
	c = curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, t);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT,
		    t < CONNECT_MAX ? t : CONNECT_MAX);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_MAXAGE_CONN, IDLE_MAX);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	return c;
}

/* The URL, the upload from memory and the callbacks. */
static CURLcode
smtp_set_io(struct smtptx *s, const char *url)
{
	CURLcode	c;

	c = curl_easy_setopt(s->curl, CURLOPT_URL, url);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR,
		    "smtp,smtps");
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->err);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, smtp_read);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_READDATA, s);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_DEBUGFUNCTION,
		    smtp_debug);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_DEBUGDATA, s);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_VERBOSE, 1L);
	return c;
}

static void
smtp_close(void *state)
{
	struct smtptx	*s = state;

	if (s == NULL)
		return;
	/* libcurl says QUIT on a connection still open. */
	curl_easy_cleanup(s->curl);
	free(s);
}

/*
 * Check the settings and make the handle. Nothing connects yet: the
 * first message does, and later ones reuse the connection.
 */
static enum usher_err
smtp_open(const struct mailtx_cfg *cfg, void **out)
{
	struct smtptx	*s = NULL;
	char		*url = NULL;
	enum usher_err	 rc;
	CURLcode	 c;

	rc = curl_init_once();
	if (rc != USHER_OK)
		return rc;
	rc = smtp_url(cfg, &url);
	if (rc != USHER_OK)
		goto out;
	rc = USHER_ERR_CONFIG;
	if (cfg->ca_file != NULL && access(cfg->ca_file, R_OK) == -1) {
		log_error("smtp ca_file %s: %s", cfg->ca_file, strerror(errno));
		goto out;
	}
	rc = USHER_ERR_INTERNAL;
	s = xcalloc(1, sizeof(*s));
	s->curl = curl_easy_init();
	if (s->curl == NULL) {
		log_error("curl_easy_init failed");
		goto out;
	}
	c = smtp_set_io(s, url);
	if (c == CURLE_OK)
		c = smtp_set_tls(s, cfg);
	if (c == CURLE_OK)
		c = smtp_set_conn(s, cfg);
	if (c != CURLE_OK) {
		log_error("curl_easy_setopt: %s", curl_easy_strerror(c));
		goto out;
	}
	*out = s;
	s = NULL;
	rc = USHER_OK;
out:
	smtp_close(s);
	free(url);
	return rc;
}

/*
 * 1 when addr may go between < and > in MAIL FROM or RCPT TO: no
 * control character (CR, LF, ...), no angle bracket, at most LIM_EMAIL
 * bytes. An empty sender is the null reverse-path, RFC 5321 4.5.5.
 */
static int
valid_path(const char *addr, int empty_ok)
{
	size_t	i;

	if (addr == NULL || (addr[0] == '\0' && !empty_ok))
		return 0;
	for (i = 0; addr[i] != '\0'; i++)
		if (i == LIM_EMAIL || (unsigned char)addr[i] < ' ' ||
		    addr[i] == 0x7f || addr[i] == '<' || addr[i] == '>')
			return 0;
	return 1;
}

/* Failures that are the connection's, TLS's or the login's. */
static int
is_conn_error(CURLcode c)
{
	switch (c) {
	case CURLE_LOGIN_DENIED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_REMOTE_ACCESS_DENIED:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_GOT_NOTHING:
		return 1;
	default:
		return 0;
	}
}

/*
 * Classify a failed curl_easy_perform(). Only a 5xx reply to this
 * message's MAIL, RCPT or DATA is PERMANENT; an outage, a TLS or login
 * failure, a refusal before MAIL or any 4xx reply is TEMPORARY, so a
 * misconfiguration never loses mail. 530, 534 and 535 are about
 * authentication (RFC 4954 6), so TEMPORARY too.
 */
static enum mailtx_result
smtp_classify(struct smtptx *s, CURLcode c, char *why, size_t whysz)
{
	const char	*text;
	long		 code = 0;

	if (curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code) !=
	    CURLE_OK)
		code = 0;
	text = s->err[0] != '\0' ? s->err : curl_easy_strerror(c);
	if (code >= 400 && s->reply[0] != '\0')
		why_set(why, whysz, "%s (%s: %s)", s->reply,
		    phase_names[s->phase], text);
	else
		why_set(why, whysz, "%s: %s", phase_names[s->phase], text);
	if (is_conn_error(c) || s->phase < PH_MAIL)
		return MAILTX_TEMPORARY;
	if (code >= 500 && code <= 599 && code != 530 && code != 534 &&
	    code != 535)
		return MAILTX_PERMANENT;
	return MAILTX_TEMPORARY;
}

/* Deliver the message once: set the envelope and body, then perform. */
static CURLcode
smtp_attempt(struct smtptx *s, const char *from, struct curl_slist *rcpt,
    const char *msg, size_t len)
{
	CURLcode	 c;
	char		*path;

	s->body = msg;
	s->left = len;
	s->phase = PH_CONNECT;
	s->sasl = 0;
	s->quit = 0;
	s->reply[0] = '\0';
	s->err[0] = '\0';
	path = xasprintf("<%s>", from);
	c = curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, path);
	free(path);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpt);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)len);
	if (c == CURLE_OK)
		c = curl_easy_setopt(s->curl, CURLOPT_FRESH_CONNECT,
		    (long)s->fresh);
	if (c == CURLE_OK)
		c = curl_easy_perform(s->curl);
	return c;
}

/*
 * 1 when a kept connection turned out dead: it was reused, the server
 * answered nothing and the socket failed before DATA. libcurl 7.88 does
 * not notice a TLS connection the server closed while idle (its liveness
 * check sees the close_notify as data). No byte of the message reached
 * the server, so sending again on a new connection cannot duplicate it.
 */
static int
smtp_stale(struct smtptx *s, CURLcode c)
{
	long	conns = 1;

	if (c != CURLE_SEND_ERROR && c != CURLE_RECV_ERROR &&
	    c != CURLE_GOT_NOTHING)
		return 0;
	if (s->reply[0] != '\0' || s->phase >= PH_DATA)
		return 0;
	if (curl_easy_getinfo(s->curl, CURLINFO_NUM_CONNECTS, &conns) !=
	    CURLE_OK)
		return 0;
	return conns == 0;
}

/* Say, for debugging, whether the message went on a kept connection. */
static void
smtp_log_sent(struct smtptx *s, const char *id)
{
	long	conns = -1;

	curl_easy_getinfo(s->curl, CURLINFO_NUM_CONNECTS, &conns);
	log_debug("message %s sent, %s connection", id,
	    conns == 0 ? "reused" : "new");
}

/*
 * Send one message on the transport's connection, opening it when there
 * is none, or when the last message failed (libcurl closes a connection
 * after an error anyway), or once more when the kept one was dead.
 */
static enum mailtx_result
smtp_send(void *state, const char *id, const char *from, const char *to,
    const char *msg, size_t len, char *why, size_t whysz)
{
	struct smtptx		*s = state;
	struct curl_slist	*rcpt;
	enum mailtx_result	 rc;
	char			*path;
	CURLcode		 c;

	if (!valid_path(from, 1) || !valid_path(to, 0)) {
		why_set(why, whysz, "envelope address with CR, LF, < or >");
		return MAILTX_PERMANENT;
	}
	path = xasprintf("<%s>", to);
	rcpt = curl_slist_append(NULL, path);
	free(path);
	if (rcpt == NULL) {
		why_set(why, whysz, "out of memory");
		return MAILTX_TEMPORARY;
	}
	c = smtp_attempt(s, from, rcpt, msg, len);
	if (c != CURLE_OK && smtp_stale(s, c)) {
		log_debug("message %s: kept connection dead, reconnecting", id);
		s->fresh = 1;
		c = smtp_attempt(s, from, rcpt, msg, len);
	}
	rc = c == CURLE_OK ? MAILTX_SENT : smtp_classify(s, c, why, whysz);
	s->fresh = rc != MAILTX_SENT;
	if (rc == MAILTX_SENT)
		smtp_log_sent(s, id);
	/* The list is freed now: libcurl must not keep a dangling one. */
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpt);
	s->body = NULL;
	s->left = 0;
	return rc;
}

/* ------------------------------------------------------------ the table */

static const struct txops txops[] = {
	{ "file", file_open, file_send, file_close },
	{ "smtp", smtp_open, smtp_send, smtp_close },
};

enum usher_err
mailtx_open(const char *name, const struct mailtx_cfg *cfg,
    struct mailtx **out)
{
	const struct txops	*ops = NULL;
	void			*state = NULL;
	enum usher_err		 rc;
	size_t			 i;

	*out = NULL;
	for (i = 0; name != NULL && i < sizeof(txops) / sizeof(txops[0]); i++)
		if (strcmp(txops[i].name, name) == 0)
			ops = &txops[i];
	if (ops == NULL) {
		log_error("unknown mail transport %s",
		    name != NULL ? name : "(none)");
		return USHER_ERR_CONFIG;
	}
	rc = ops->open(cfg, &state);
	if (rc != USHER_OK)
		return rc;
	*out = xcalloc(1, sizeof(**out));
	(*out)->ops = ops;
	(*out)->state = state;
	return USHER_OK;
}

enum mailtx_result
mailtx_send(struct mailtx *tx, const char *id, const char *from,
    const char *to, const char *msg, size_t len, char *why, size_t whysz)
{
	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (msg == NULL && len > 0) {
		why_set(why, whysz, "no message");
		return MAILTX_PERMANENT;
	}
	if (msg == NULL)
		msg = "";
	return tx->ops->send(tx->state, id, from, to, msg, len, why, whysz);
}

void
mailtx_close(struct mailtx *tx)
{
	if (tx == NULL)
		return;
	tx->ops->close(tx->state);
	free(tx);
}
