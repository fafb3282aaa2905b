/* tmpl.h -- templates of mails and pages: a closed set of placeholders,
 * each value escaped for where it lands (HTML, text, mail header, URL) */
#ifndef USHER_TMPL_H
#define USHER_TMPL_H

#include <stddef.h>

#include "err.h"

/* Languages, in templates/<locale>/. */
enum tmpl_locale { TMPL_EN, TMPL_UK, TMPL_RU, TMPL_LOCALE__MAX };

/* Every placeholder a template may use: {{name}}. */
enum tmpl_var {
	TV_SITE_NAME, TV_USER_NAME, TV_LINK, TV_EXPIRES_AT, TV_CHANGED_AT,
	TV_LOGIN, TV_NEW_EMAIL, TV_OLD_EMAIL, TV_TITLE, TV_BODY, TV_ACTION,
	TV_TOKEN, TV_MIN_LENGTH, TV__MAX
};

/* The parts of a template file: its suffix decides the escaping. */
enum tmpl_part {
	TP_SUBJECT,	/* .subject: one header line; values must not hold controls */
	TP_TEXT,	/* .txt: values as they are (no controls but \n and \t) */
	TP_HTML,	/* .html: values HTML-escaped (& < > " ') */
	TP__MAX
};

/* Values for one rendering: NULL means "not given" (an error if used). */
struct tmpl_vars {
	const char	*v[TV__MAX];
};

/*
 * Load every template under `dir` (templates/<locale>/mail/<name>.<part>,
 * templates/<locale>/page/<name>.html) into memory, checking each one's
 * placeholders against the set its name allows. USHER_ERR_CONFIG (logged,
 * naming the file) on a missing file or an unknown placeholder.
 * Loading again replaces what was loaded.
 */
enum usher_err	 tmpl_load(const char *dir);
void		 tmpl_free(void);

/*
 * Render mail `name` (e.g. "verify_email") or page `name` (e.g.
 * "verify_ok"; part TP_HTML only) in `loc` with `vars` into a new string
 * (*out, caller frees). USHER_ERR_NOT_FOUND for an unknown template;
 * USHER_ERR_INVALID when a placeholder it uses has no value, or a value is
 * not acceptable in its context (a control character in a subject, a
 * link that is not an absolute http(s) URL, invalid UTF-8).
 */
enum usher_err	 tmpl_mail(const char *name, enum tmpl_part, enum tmpl_locale,
		    const struct tmpl_vars *, char **out);
enum usher_err	 tmpl_page(const char *name, enum tmpl_locale,
		    const struct tmpl_vars *, char **out);

/* "en", "uk", "ru" to a locale; TMPL_EN for anything else (the fallback). */
enum tmpl_locale tmpl_locale_parse(const char *);
const char	*tmpl_locale_name(enum tmpl_locale);
/* The best of our locales for an Accept-Language header (NULL: en). */
enum tmpl_locale tmpl_locale_accept(const char *accept_language);
/* Placeholder name ("site_name"), or NULL. */
const char	*tmpl_var_name(enum tmpl_var);

/*
 * base + path + "?token=" + the token percent-encoded (RFC 3986
 * unreserved characters kept): a link for a mail or page. `base` has no
 * trailing slash. Caller frees.
 */
char		*tmpl_link(const char *base, const char *path, const char *token);

#endif /* USHER_TMPL_H */
