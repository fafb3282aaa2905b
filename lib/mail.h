/* mail.h -- the outbox: queueing mail with the change that causes it, and
 * the worker's delivery pass (render, build, send, record, retry) */
#ifndef USHER_MAIL_H
#define USHER_MAIL_H

#include <signal.h>
#include <stddef.h>

#include "err.h"

struct mailtx;

/* The messages usher sends; their names are the templates' names. */
enum mail_kind {
	MAIL_VERIFY_EMAIL,
	MAIL_PASSWORD_RESET,
	MAIL_PASSWORD_CHANGED,
	MAIL_USERNAME_REMINDER,
	MAIL_EMAIL_CHANGE_CONFIRM,
	MAIL_EMAIL_CHANGE_NOTICE,
	MAIL_NOTIFICATION,
	MAIL__MAX
};

const char	*mail_kind_name(enum mail_kind);
enum mail_kind	 mail_kind_parse(const char *);	/* MAIL__MAX if unknown */

/* Placeholder values a message needs beyond its account's row. */
struct mail_extra {
	const char	*new_email;	/* email change */
	const char	*old_email;	/* email change notice */
	const char	*title;		/* notification */
	const char	*body;		/* notification */
};

/*
 * Queue a message of `kind` to `to` about account `uid` (NULL: the worker
 * finds the account by the address; forgot, resend and remind). Runs in
 * the caller's transaction, so the message exists exactly when the change
 * does. At most one message per recipient and kind a minute and
 * cfg.mail_hourly_cap an hour: past that nothing is queued and USHER_OK is
 * returned all the same (the API answers alike). With mail disabled in the
 * configuration, nothing is queued either.
 */
enum usher_err	 mail_enqueue(enum mail_kind, const char *to, const char *uid,
		    const struct mail_extra *);

/* Counts of one worker pass. */
struct mail_stats {
	unsigned	 sent;
	unsigned	 retry;		/* temporary failures, tried again later */
	unsigned	 failed;	/* permanent, or out of attempts */
	unsigned	 skipped;	/* nothing to send (no account, done) */
};

/*
 * One delivery pass: claim due messages in batches of cfg.mail_batch
 * (FOR UPDATE SKIP LOCKED: workers never send one message at once), send
 * each over `tx`, record the outcome, commit; until none is due, `stop`
 * becomes non-zero, or `max` messages (0: no limit) were handled.
 * Templates must be loaded (tmpl_load).
 */
enum usher_err	 mail_flush(struct mailtx *tx, volatile sig_atomic_t *stop,
		    unsigned max, struct mail_stats *);

/* Seconds until the next pending message is due (0: now; -1: none). */
enum usher_err	 mail_next_due(long *secs);

/*
 * Render message `kind` in `locale` ("en", "uk", "ru") with sample values
 * into a whole MIME message (*out, caller frees): `usherctl mail preview`.
 */
enum usher_err	 mail_preview(enum mail_kind, const char *locale, char **out);

/* The configured transport (cfg.mail_transport and its settings). */
enum usher_err	 mail_open_transport(struct mailtx **);

struct json_object;
/*
 * Administration (usherctl mail): rows newest first, `status` NULL for
 * all; one row by id; retry puts a failed (or any, with `id` NULL: every
 * failed) message back in the queue, due now. Rows never hold secrets.
 */
enum usher_err	 mail_list(const char *status, int limit,
		    struct json_object **out);
enum usher_err	 mail_show(const char *id, struct json_object **out);
enum usher_err	 mail_retry(const char *id, int *n);

#endif /* USHER_MAIL_H */
