/* maild.c -- the outbox's delivery: claim, mint, compose, lease, send,
 * record, retry with backoff (usher-mailer and usherctl mail flush) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "atok.h"
#include "cfg.h"
#include "db.h"
#include "log.h"
#include "mail.h"
#include "mailtx.h"
#include "mime.h"
#include "tmpl.h"
#include "xmalloc.h"

enum mstmt {
	M_CLAIM, M_SENT, M_RETRY, M_FAILED, M_SKIPPED, M_NEXT, M_LEASE, M__MAX
};

/* Columns of M_CLAIM, in order. */
enum mcol {
	C_ID, C_KIND, C_TO, C_VARS, C_MSGID, C_CREATED, C_UID, C_EMAIL,
	C_USERNAME, C_DISPLAY, C_LOCALE, C_VERIFIED, C_STATUS, C_ROLE, C__MAX
};

static struct db_stmt mstmts[M__MAX] = {
	[M_CLAIM] = { "mail_claim",
	    "SELECT o.id, o.kind, o.to_addr, o.vars::text, o.message_id, "
	    "to_char(o.created_at AT TIME ZONE 'UTC', "
	    "  'YYYY-MM-DD HH24:MI \"UTC\"'), "
	    "u.id, u.email, u.username, u.display_name, u.locale, "
	    "u.email_verified, u.status, u.role "
	    "FROM mail_outbox o LEFT JOIN users u ON u.id = coalesce(o.user_id, "
	    "  (SELECT x.id FROM users x WHERE lower(x.email) = lower(o.to_addr))) "
	    "WHERE o.status = 'pending' AND o.next_attempt_at <= now() "
	    "ORDER BY o.next_attempt_at, o.id LIMIT $1::int "
	    "FOR UPDATE OF o SKIP LOCKED", 1, 0 },
	[M_SENT] = { "mail_sent",
	    "UPDATE mail_outbox SET status = 'sent', sent_at = now(), "
	    "attempts = attempts + 1, last_error = NULL, locale = $2 "
	    "WHERE id = $1::bigint", 2, 0 },
	/* $3 attempts allowed, $4 first wait (s), $5 longest wait (s) */
	[M_RETRY] = { "mail_retry",
	    "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, "
	    "status = CASE WHEN attempts + 1 >= $3::int THEN 'failed' "
	    "  ELSE 'pending' END, "
	    "next_attempt_at = now() + make_interval(secs => least($5::float8, "
	    "  $4::float8 * power(2, least(attempts, 30)))), locale = $6 "
	    "WHERE id = $1::bigint RETURNING status", 6, 0 },
	[M_FAILED] = { "mail_failed",
	    "UPDATE mail_outbox SET status = 'failed', attempts = attempts + 1, "
	    "last_error = $2, locale = $3 WHERE id = $1::bigint", 3, 0 },
	[M_SKIPPED] = { "mail_skipped",
	    "UPDATE mail_outbox SET status = 'skipped', last_error = $2 "
	    "WHERE id = $1::bigint", 2, 0 },
	[M_NEXT] = { "mail_next",
	    "SELECT greatest(0, ceil(extract(epoch FROM "
	    "  min(next_attempt_at) - now())))::bigint "
	    "FROM mail_outbox WHERE status = 'pending'", 0, 0 },
	[M_LEASE] = { "mail_lease",
	    "UPDATE mail_outbox SET next_attempt_at = now() + "
	    "make_interval(secs => $2::int) WHERE id = $1::bigint", 2, 0 },
};

/* One claimed row and what rendering it needs. */
struct job {
	const PGresult		*res;
	int			 row;
	enum mail_kind		 kind;
	struct json_object	*vars;
	struct tmpl_vars	 tv;
	char			 token[LIM_MAIL_TOKEN + 1];
	char			 expires[32];
	char			*link;
	const char		*to;
	enum tmpl_locale	 loc;
	int			 skipped;
	char			*msg;		/* the composed message */
	size_t			 len;
	char			 why[LIM_MAIL_ERROR];
};

static const char *
col(const struct job *j, enum mcol c)
{
	if (PQgetisnull(j->res, j->row, c))
		return NULL;
	return PQgetvalue(j->res, j->row, c);
}

static const char *
var(const struct job *j, const char *k)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(j->vars, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int
same_addr(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

/*
 * Whether the message still has a point, and to whom it goes; NULL when
 * it does, else why it is skipped.
 */
static const char *
skip_reason(struct job *j)
{
	const char	*st = col(j, C_STATUS), *email = col(j, C_EMAIL);

	j->to = col(j, C_TO);
	if (col(j, C_UID) == NULL)
		return "no such account";
	if (strcmp(st, "deleted") == 0)
		return "account deleted";
	switch (j->kind) {
	case MAIL_VERIFY_EMAIL:
		if (strcmp(col(j, C_VERIFIED), "t") == 0)
			return "already verified";
		/* FALLTHROUGH */
	case MAIL_PASSWORD_RESET:
		if (strcmp(st, "active") != 0)
			return "account disabled";
		if (!same_addr(email, j->to))
			return "address changed";
		j->to = email;
		break;
	case MAIL_USERNAME_REMINDER:
		if (!same_addr(email, j->to))
			return "address changed";
		j->to = email;
		break;
	case MAIL_EMAIL_CHANGE_CONFIRM:
		if (strcmp(st, "active") != 0)
			return "account disabled";
		if (var(j, "new_email") == NULL)
			return "no new address";
		break;
	default:
		break;
	}
	return NULL;
}

static const char *
user_name(const struct job *j)
{
	if (col(j, C_DISPLAY) != NULL && *col(j, C_DISPLAY) != '\0')
		return col(j, C_DISPLAY);
	if (col(j, C_USERNAME) != NULL)
		return col(j, C_USERNAME);
	return j->to;
}

/* Mint the link's token and build the link, for kinds that carry one. */
static enum usher_err
make_link(struct job *j)
{
	enum atok_purpose	 p;
	const char		*base, *path, *email = j->to;
	unsigned		 ttl;
	enum usher_err		 rc;

	switch (j->kind) {
	case MAIL_VERIFY_EMAIL:
		p = ATOK_VERIFY_EMAIL;
		ttl = cfg.verify_ttl;
		path = cfg.frontend_url ? "/verify-email" : "/v1/auth/verify-email";
		break;
	case MAIL_EMAIL_CHANGE_CONFIRM:
		p = ATOK_EMAIL_CHANGE;
		ttl = cfg.email_change_ttl;
		email = var(j, "new_email");
		path = cfg.frontend_url ? "/verify-email" : "/v1/auth/verify-email";
		break;
	case MAIL_PASSWORD_RESET:
		p = ATOK_PASSWORD_RESET;
		ttl = cfg.reset_ttl;
		path = cfg.frontend_url ? "/reset-password" :
		    "/v1/auth/password/reset";
		break;
	default:
		return USHER_OK;
	}
	if ((rc = atok_mint(p, col(j, C_UID), email, col(j, C_ID), ttl,
	    j->token, j->expires)) != USHER_OK)
		return rc;
	base = cfg.frontend_url ? cfg.frontend_url : cfg.public_url;
	j->link = tmpl_link(base, path, j->token);
	j->tv.v[TV_LINK] = j->link;
	j->tv.v[TV_EXPIRES_AT] = j->expires;
	return USHER_OK;
}

static void
fill_vars(struct job *j)
{
	struct tmpl_vars	*tv = &j->tv;

	tv->v[TV_SITE_NAME] = cfg.site_name;
	tv->v[TV_USER_NAME] = user_name(j);
	tv->v[TV_CHANGED_AT] = col(j, C_CREATED);
	tv->v[TV_LOGIN] = col(j, C_USERNAME) ? col(j, C_USERNAME) :
	    col(j, C_EMAIL);
	tv->v[TV_NEW_EMAIL] = var(j, "new_email");
	tv->v[TV_OLD_EMAIL] = var(j, "old_email");
	tv->v[TV_TITLE] = var(j, "title");
	tv->v[TV_BODY] = var(j, "body");
}

/* Subject, text and HTML of `kind` in `loc`, then the MIME message. */
static enum usher_err
compose(enum mail_kind kind, enum tmpl_locale loc,
    const struct tmpl_vars *tv, const char *to, const char *to_name,
    const char *msgid, char **msg, size_t *len)
{
	struct mime_msg	 m;
	char		*subject = NULL, *text = NULL, *html = NULL;
	enum usher_err	 rc;

	*msg = NULL;
	if ((rc = tmpl_mail(mail_kind_name(kind), TP_SUBJECT, loc, tv, &subject)) !=
	    USHER_OK ||
	    (rc = tmpl_mail(mail_kind_name(kind), TP_TEXT, loc, tv, &text)) != USHER_OK ||
	    (rc = tmpl_mail(mail_kind_name(kind), TP_HTML, loc, tv, &html)) != USHER_OK)
		goto out;
	memset(&m, 0, sizeof(m));
	m.from = cfg.mail_from;
	m.reply_to = cfg.mail_reply_to;
	m.to = to;
	m.to_name = to_name;
	m.subject = subject;
	m.text = text;
	m.html = html;
	m.message_id = msgid;
	m.date = time(NULL);
	rc = mime_build(&m, msg, len);
out:
	free(subject);
	free(text);
	free(html);
	return rc;
}

static enum usher_err
record(const struct job *j, enum mailtx_result r, const char *why,
    struct mail_stats *st)
{
	char		 attempts[16], base[16], maxb[16];
	const char	*p[6];
	const char	*loc = tmpl_locale_name(j->loc);
	PGresult	*res;
	enum usher_err	 rc;

	p[0] = col(j, C_ID);
	p[1] = why;
	if (r == MAILTX_SENT) {
		p[1] = loc;
		st->sent++;
		return db_exec(&mstmts[M_SENT], p, NULL);
	}
	if (r == MAILTX_PERMANENT) {
		p[2] = loc;
		st->failed++;
		log_warn("mail %s to outbox id %s failed: %s", mail_kind_name(j->kind),
		    p[0], why);
		return db_exec(&mstmts[M_FAILED], p, NULL);
	}
	snprintf(attempts, sizeof(attempts), "%u", cfg.mail_max_attempts);
	snprintf(base, sizeof(base), "%u", cfg.mail_retry_base);
	snprintf(maxb, sizeof(maxb), "%u", LIM_MAIL_BACKOFF_MAX);
	p[2] = attempts;
	p[3] = base;
	p[4] = maxb;
	p[5] = loc;
	if ((rc = db_exec(&mstmts[M_RETRY], p, &res)) != USHER_OK)
		return rc;
	if (strcmp(PQgetvalue(res, 0, 0), "failed") == 0) {
		st->failed++;
		log_warn("mail outbox id %s failed after %u attempts: %s",
		    p[0], cfg.mail_max_attempts, why);
	} else
		st->retry++;
	PQclear(res);
	return USHER_OK;
}

static void
job_clear(struct job *j)
{
	if (j->msg != NULL) {
		explicit_bzero(j->msg, j->len);
		free(j->msg);
	}
	explicit_bzero(j->token, sizeof(j->token));
	if (j->link != NULL) {
		explicit_bzero(j->link, strlen(j->link));
		free(j->link);
	}
	json_object_put(j->vars);
	memset(j, 0, sizeof(*j));
}

/*
 * In the claim's transaction: skip a row that has no point any more, or
 * mint its link's token, compose it and lease the row for `lease` seconds
 * (no other worker takes it meanwhile). The token is committed before the
 * message leaves, so its link works the moment it arrives.
 */
static enum usher_err
prepare(struct job *j, const char *lease, struct mail_stats *st)
{
	const char	*skip, *p[2];
	enum usher_err	 rc;

	j->kind = mail_kind_parse(col(j, C_KIND));
	j->vars = json_tokener_parse(col(j, C_VARS));
	j->loc = tmpl_locale_parse(col(j, C_LOCALE));
	p[0] = col(j, C_ID);
	if ((skip = skip_reason(j)) != NULL) {
		p[1] = skip;
		j->skipped = 1;
		st->skipped++;
		return db_exec(&mstmts[M_SKIPPED], p, NULL);
	}
	fill_vars(j);
	if ((rc = make_link(j)) != USHER_OK)
		return rc;
	rc = compose(j->kind, j->loc, &j->tv, j->to, col(j, C_DISPLAY),
	    col(j, C_MSGID), &j->msg, &j->len);
	if (rc != USHER_OK)
		/* our templates or data are at fault: no retry will help */
		snprintf(j->why, sizeof(j->why), "cannot compose: %s",
		    usher_strerror(rc));
	p[1] = lease;
	return db_exec(&mstmts[M_LEASE], p, NULL);
}

/* After the commit: send a prepared row and record how it went. */
static enum usher_err
send_one(struct job *j, struct mailtx *tx, struct mail_stats *st)
{
	enum mailtx_result	r = MAILTX_PERMANENT;

	if (j->skipped)
		return USHER_OK;
	if (j->msg != NULL) {
		r = mailtx_send(tx, col(j, C_ID), cfg.mail_from_addr, j->to,
		    j->msg, j->len, j->why, sizeof(j->why));
	}
	return record(j, r, j->why, st);
}

/*
 * One batch: claim, prepare and lease the rows in one transaction, then
 * send each and record it. *n gets how many rows were claimed. A worker
 * that dies mid-batch leaves its rows leased: they are due again when the
 * lease ends (at least once, never twice at once).
 */
static enum usher_err
batch(struct mailtx *tx, unsigned limit, struct mail_stats *st, int *n)
{
	char		 lim[16], lease[16];
	const char	*p[1] = { lim };
	PGresult	*res = NULL;
	struct job	*jobs = NULL;
	enum usher_err	 rc;
	int		 i, k = 0;

	*n = 0;
	snprintf(lim, sizeof(lim), "%u", limit);
	snprintf(lease, sizeof(lease), "%u", cfg.smtp_timeout * limit + 60);
	if ((rc = db_begin()) != USHER_OK)
		return rc;
	if ((rc = db_exec(&mstmts[M_CLAIM], p, &res)) != USHER_OK)
		goto out;
	*n = PQntuples(res);
	jobs = xcalloc((size_t)*n + 1, sizeof(*jobs));
	for (k = 0; k < *n && rc == USHER_OK; k++) {
		jobs[k].res = res;
		jobs[k].row = k;
		rc = prepare(&jobs[k], lease, st);
	}
	if (rc == USHER_OK)
		rc = db_commit();
	for (i = 0; i < *n && rc == USHER_OK; i++)
		rc = send_one(&jobs[i], tx, st);
out:
	if (rc != USHER_OK)
		db_rollback();
	for (i = 0; i < k; i++)
		job_clear(&jobs[i]);
	free(jobs);
	PQclear(res);
	return rc;
}

enum usher_err
mail_flush(struct mailtx *tx, volatile sig_atomic_t *stop, unsigned max,
    struct mail_stats *st)
{
	unsigned	 done = 0, limit;
	enum usher_err	 rc;
	int		 n;

	memset(st, 0, sizeof(*st));
	for (;;) {
		if (stop != NULL && *stop)
			return USHER_OK;
		limit = cfg.mail_batch;
		if (max != 0 && max - done < limit)
			limit = max - done;
		if ((rc = batch(tx, limit, st, &n)) != USHER_OK)
			return rc;
		done += (unsigned)n;
		if ((unsigned)n < limit || (max != 0 && done >= max))
			return USHER_OK;
	}
}

enum usher_err
mail_next_due(long *secs)
{
	PGresult	*res;
	enum usher_err	 rc;

	*secs = -1;
	if ((rc = db_exec(&mstmts[M_NEXT], NULL, &res)) != USHER_OK)
		return rc;
	if (!PQgetisnull(res, 0, 0))
		*secs = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return USHER_OK;
}

enum usher_err
mail_preview(enum mail_kind kind, const char *locale, char **out)
{
	struct tmpl_vars	 tv;
	char			*link, msgid[300];
	size_t			 len;
	enum usher_err		 rc;

	if ((unsigned)kind >= MAIL__MAX)
		return USHER_ERR_NOT_FOUND;
	link = tmpl_link(cfg.frontend_url ? cfg.frontend_url : cfg.public_url,
	    "/v1/auth/verify-email", "SAMPLE-TOKEN-not-valid");
	memset(&tv, 0, sizeof(tv));
	tv.v[TV_SITE_NAME] = cfg.site_name;
	tv.v[TV_USER_NAME] = "Олена Приклад";
	tv.v[TV_LINK] = link;
	tv.v[TV_EXPIRES_AT] = "2026-01-02 03:04 UTC";
	tv.v[TV_CHANGED_AT] = "2026-01-01 03:04 UTC";
	tv.v[TV_LOGIN] = "olena";
	tv.v[TV_NEW_EMAIL] = "new@example.com";
	tv.v[TV_OLD_EMAIL] = "old@example.com";
	tv.v[TV_TITLE] = "A sample notice";
	tv.v[TV_BODY] = "First line of the notice.\nSecond line.";
	snprintf(msgid, sizeof(msgid), "<preview@%s>", cfg.mail_domain);
	rc = compose(kind, tmpl_locale_parse(locale), &tv, "olena@example.com",
	    "Олена Приклад", msgid, out, &len);
	free(link);
	return rc;
}

enum usher_err
mail_open_transport(struct mailtx **tx)
{
	struct mailtx_cfg	c;

	memset(&c, 0, sizeof(c));
	c.spool = cfg.mail_spool;
	c.url = cfg.smtp_url;
	c.user = cfg.smtp_user;
	c.password = cfg.smtp_password;
	c.ca_file = cfg.smtp_ca_file;
	c.timeout = cfg.smtp_timeout;
	c.helo = cfg.smtp_helo;
	return mailtx_open(cfg.mail_transport, &c, tx);
}

