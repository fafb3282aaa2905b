/* tmpl.c -- mail and page templates: parsed once at load, rendered escaped */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "tmpl.h"
#include "valid.h"
#include "xmalloc.h"

#define TMPL_FILE_MAX	(64 * 1024)	/* bytes of one template file */
#define TMPL_OUT_MAX	(256 * 1024)	/* bytes of one rendered text */
#define TMPL_SHOWN	32	/* bytes of a bad placeholder logged */
#define ACCEPT_BYTES	256	/* of an Accept-Language header read */
#define ACCEPT_ENTRIES	32	/* entries of it read */

#define BIT(v)		(1u << (v))
#define V_ALWAYS	(BIT(TV_SITE_NAME) | BIT(TV_USER_NAME))
#define V_URLS		(BIT(TV_LINK) | BIT(TV_ACTION))
#define V_LINK		(BIT(TV_LINK) | BIT(TV_EXPIRES_AT))
#define V_FORM		(BIT(TV_ACTION) | BIT(TV_TOKEN) | \
			    BIT(TV_MIN_LENGTH))

_Static_assert(TV__MAX <= 32, "placeholder sets are 32-bit masks");

/* Every template we know: mails first, then pages. */
enum tmpl_id {
	T_VERIFY_EMAIL, T_PASSWORD_RESET, T_PASSWORD_CHANGED,
	T_USERNAME_REMINDER, T_EMAIL_CHANGE_CONFIRM, T_EMAIL_CHANGE_NOTICE,
	T_NOTIFICATION,
	T_VERIFY_OK, T_VERIFY_FAILED, T_RESET_FORM, T_RESET_RETRY,
	T_RESET_DONE, T_RESET_FAILED,
	T__MAX
};

struct tdef {
	const char	*name;
	int		 page;		/* 1: page/<name>.html; 0: mail/ */
	unsigned int	 allowed;	/* BIT(tmpl_var) of what it may use */
};

/* The closed set: which placeholders each template may use. */
static const struct tdef tdefs[T__MAX] = {
	[T_VERIFY_EMAIL] = { "verify_email", 0, V_ALWAYS | V_LINK },
	[T_PASSWORD_RESET] = { "password_reset", 0, V_ALWAYS | V_LINK },
	[T_PASSWORD_CHANGED] = { "password_changed", 0,
	    V_ALWAYS | BIT(TV_CHANGED_AT) },
	[T_USERNAME_REMINDER] = { "username_reminder", 0,
	    V_ALWAYS | BIT(TV_LOGIN) },
	[T_EMAIL_CHANGE_CONFIRM] = { "email_change_confirm", 0,
	    V_ALWAYS | V_LINK | BIT(TV_NEW_EMAIL) },
	[T_EMAIL_CHANGE_NOTICE] = { "email_change_notice", 0,
	    V_ALWAYS | BIT(TV_OLD_EMAIL) | BIT(TV_NEW_EMAIL) },
	[T_NOTIFICATION] = { "notification", 0,
	    V_ALWAYS | BIT(TV_TITLE) | BIT(TV_BODY) },
	[T_VERIFY_OK] = { "verify_ok", 1, V_ALWAYS },
	[T_VERIFY_FAILED] = { "verify_failed", 1, V_ALWAYS },
	[T_RESET_FORM] = { "reset_form", 1, V_ALWAYS | V_FORM },
	[T_RESET_RETRY] = { "reset_retry", 1, V_ALWAYS | V_FORM },
	[T_RESET_DONE] = { "reset_done", 1, V_ALWAYS },
	[T_RESET_FAILED] = { "reset_failed", 1, V_ALWAYS },
};

static const char *const var_names[TV__MAX] = {
	[TV_SITE_NAME] = "site_name",
	[TV_USER_NAME] = "user_name",
	[TV_LINK] = "link",
	[TV_EXPIRES_AT] = "expires_at",
	[TV_CHANGED_AT] = "changed_at",
	[TV_LOGIN] = "login",
	[TV_NEW_EMAIL] = "new_email",
	[TV_OLD_EMAIL] = "old_email",
	[TV_TITLE] = "title",
	[TV_BODY] = "body",
	[TV_ACTION] = "action",
	[TV_TOKEN] = "token",
	[TV_MIN_LENGTH] = "min_length",
};

static const char *const locale_names[TMPL_LOCALE__MAX] = {
	[TMPL_EN] = "en", [TMPL_UK] = "uk", [TMPL_RU] = "ru"
};

static const char *const part_suffix[TP__MAX] = {
	[TP_SUBJECT] = "subject", [TP_TEXT] = "txt", [TP_HTML] = "html"
};

/* A run of a template: literal text, or one placeholder. */
struct seg {
	size_t		 off, len;	/* literal: text[off, off + len) */
	enum tmpl_var	 var;		/* TV__MAX for a literal */
};

/* One template file, parsed. */
struct tpl {
	char		*text;		/* the file, NUL-terminated */
	struct seg	*segs;
	size_t		 nsegs, capsegs;
	unsigned int	 used;		/* BIT(tmpl_var) of its placeholders */
};

/* All that one tmpl_load() read; a page fills only its [TP_HTML]. */
struct tset {
	struct tpl	 t[TMPL_LOCALE__MAX][T__MAX][TP__MAX];
};

/* What tmpl_load() last loaded whole, or NULL. */
static struct tset	*loaded;

/* Free the parts t[0, TP__MAX) of one template. */
static void
tpl_free_parts(struct tpl *t)
{
	size_t	part;

	for (part = 0; part < TP__MAX; part++) {
		free(t[part].text);
		free(t[part].segs);
	}
}

static void
tset_free(struct tset *s)
{
	size_t	loc, id;

	if (s == NULL)
		return;
	for (loc = 0; loc < TMPL_LOCALE__MAX; loc++)
		for (id = 0; id < T__MAX; id++)
			tpl_free_parts(s->t[loc][id]);
	free(s);
}

/* ---- loading ---- */

/*
 * Read path whole into a new NUL-terminated string (*out, caller frees),
 * its length in *outlen. USHER_ERR_CONFIG, logged, when it cannot be
 * read, is larger than TMPL_FILE_MAX, or is not UTF-8 (a NUL included).
 */
static enum usher_err
read_file(const char *path, char **out, size_t *outlen)
{
	enum usher_err	rc;

	rc = file_read(path, TMPL_FILE_MAX, out, outlen);
	if (rc == USHER_ERR_TOO_LARGE)
		log_error("%s: larger than %d bytes", path, TMPL_FILE_MAX);
	else if (rc == USHER_ERR_INVALID)
		log_error("%s: unreadable", path);
	else if (rc != USHER_OK)
		log_error("%s: %s", path, strerror(errno));
	else if (!valid_utf8(*out, *outlen)) {
		log_error("%s: not UTF-8 text (or holds a NUL)", path);
		free(*out);
		*out = NULL;
		return USHER_ERR_CONFIG;
	}
	return rc == USHER_OK ? USHER_OK : USHER_ERR_CONFIG;
}

/* 1 when s[0, len) holds no C0 control and no DEL but those in allow. */
static int
valid_controls(const char *s, size_t len, const char *allow)
{
	unsigned char	c;
	size_t		i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if ((c >= 0x20 && c != 0x7f) || c == '\0')
			continue;
		if (strchr(allow, c) == NULL)
			return 0;
	}
	return 1;
}

/* A subject is one line: one trailing "\n" dropped, no control left. */
static enum usher_err
fix_subject(struct tpl *t, size_t len, const char *path)
{
	if (len > 0 && t->text[len - 1] == '\n')
		t->text[--len] = '\0';
	if (len == 0 || !valid_controls(t->text, len, "")) {
		log_error("%s: a subject must be one non-empty line", path);
		return USHER_ERR_CONFIG;
	}
	return USHER_OK;
}

static void
seg_add(struct tpl *t, size_t off, size_t len, enum tmpl_var var)
{
	struct seg	*s;

	if (var == TV__MAX && len == 0)
		return;
	/* no overflow: a file of TMPL_FILE_MAX bytes has fewer segments */
	if (t->nsegs == t->capsegs) {
		t->capsegs = t->capsegs == 0 ? 16 : t->capsegs * 2;
		t->segs = xrealloc(t->segs, t->capsegs * sizeof(*t->segs));
	}
	s = &t->segs[t->nsegs++];
	s->off = off;
	s->len = len;
	s->var = var;
	if (var != TV__MAX)
		t->used |= BIT(var);
}

/* The "}}" closing a placeholder that starts at s, on its line, or NULL. */
static const char *
find_close(const char *s)
{
	for (; *s != '\0' && *s != '\n'; s++)
		if (s[0] == '}' && s[1] == '}')
			return s;
	return NULL;
}

/* The placeholder named s[0, len) ([a-z_]+), or TV__MAX. */
static enum tmpl_var
var_lookup(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((s[i] < 'a' || s[i] > 'z') && s[i] != '_')
			return TV__MAX;
	for (i = 0; i < TV__MAX; i++)
		if (len > 0 && strlen(var_names[i]) == len &&
		    memcmp(var_names[i], s, len) == 0)
			return (enum tmpl_var)i;
	return TV__MAX;
}

/* How much of a bad placeholder s[0, len) to log: whole characters. */
static int
shown_len(const char *s, size_t len)
{
	if (len > TMPL_SHOWN) {
		len = TMPL_SHOWN;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	return (int)len;
}

/*
 * Split t->text into segments, checking each {{name}} against `allowed`.
 * USHER_ERR_CONFIG, logged naming path and placeholder, on a "{{" not
 * closed on its line, a name not in [a-z_]+ or unknown, or one this
 * template may not use. A lone "}}" is text (CSS has them).
 */
static enum usher_err
parse(struct tpl *t, const char *path, unsigned int allowed)
{
	const char	*p, *open, *name, *close;
	size_t		 len;
	enum tmpl_var	 v;

	p = t->text;
	for (;;) {
		open = strstr(p, "{{");
		if (open == NULL)
			break;
		name = open + 2;
		close = find_close(name);
		if (close == NULL) {
			len = strcspn(name, "\n");
			log_error("%s: \"{{%.*s\" not closed on its line", path,
			    shown_len(name, len), name);
			return USHER_ERR_CONFIG;
		}
		len = (size_t)(close - name);
		v = var_lookup(name, len);
		if (v == TV__MAX) {
			log_error("%s: unknown placeholder {{%.*s}}", path,
			    shown_len(name, len), name);
			return USHER_ERR_CONFIG;
		}
		if ((allowed & BIT(v)) == 0) {
			log_error("%s: placeholder {{%s}} not allowed in this "
			    "template", path, var_names[v]);
			return USHER_ERR_CONFIG;
		}
		seg_add(t, (size_t)(p - t->text), (size_t)(open - p), TV__MAX);
		seg_add(t, 0, 0, v);
		p = close + 2;
	}
	seg_add(t, (size_t)(p - t->text), strlen(p), TV__MAX);
	return USHER_OK;
}

/* "{{>name.html}}", name in [a-z_]+: the shared file it names, or NULL. */
static char *
include_name(const char *s, size_t len)
{
	size_t	i;

	if (len < 6 || memcmp(s + len - 5, ".html", 5) != 0)
		return NULL;
	for (i = 0; i < len - 5; i++)
		if ((s[i] < 'a' || s[i] > 'z') && s[i] != '_')
			return NULL;
	return xasprintf("%.*s", (int)len, s);
}

/*
 * A page's "{{>name.html}}" marks: dir/name.html in their place, read at
 * load (one level: the shared file may hold no "{{"). The pages' common
 * head (meta, style) lives in one file so, not in eighteen.
 */
static enum usher_err
expand_includes(struct tpl *t, const char *dir, const char *path)
{
	struct buf	 b;
	const char	*p, *open, *close;
	char		*name, *ipath, *inc;
	size_t		 inclen;
	enum usher_err	 rc = USHER_OK;

	if (strstr(t->text, "{{>") == NULL)
		return USHER_OK;
	buf_init(&b, TMPL_FILE_MAX);
	for (p = t->text; rc == USHER_OK &&
	    (open = strstr(p, "{{>")) != NULL; p = close + 2) {
		close = find_close(open + 3);
		name = close ? include_name(open + 3,
		    (size_t)(close - open - 3)) : NULL;
		if (name == NULL) {
			log_error("%s: bad include \"%.*s\"", path,
			    shown_len(open, strcspn(open, "\n")), open);
			rc = USHER_ERR_CONFIG;
			break;
		}
		ipath = xasprintf("%s/%s", dir, name);
		inc = NULL;
		rc = read_file(ipath, &inc, &inclen);
		if (rc == USHER_OK && strstr(inc, "{{") != NULL) {
			log_error("%s: an included file holds \"{{\"", ipath);
			rc = USHER_ERR_CONFIG;
		}
		if (rc == USHER_OK) {
			buf_add(&b, p, (size_t)(open - p));
			/* the mark's own line end ends the included text */
			if (inclen > 0 && inc[inclen - 1] == '\n')
				inclen--;
			buf_add(&b, inc, inclen);
		}
		free(inc);
		free(ipath);
		free(name);
	}
	if (rc != USHER_OK) {
		buf_free(&b);
		return rc;
	}
	buf_str(&b, p);
	free(t->text);
	t->text = NULL;
	if ((rc = buf_take(&b, &t->text, NULL)) == USHER_ERR_TOO_LARGE) {
		log_error("%s: larger than %d bytes with its includes", path,
		    TMPL_FILE_MAX);
		rc = USHER_ERR_CONFIG;
	}
	return rc;
}

/* Read and parse dir/<loc>/<mail|page>/<name>.<part> into t. */
static enum usher_err
load_one(struct tpl *t, const char *dir, enum tmpl_locale loc,
    enum tmpl_id id, enum tmpl_part part)
{
	char		*path;
	size_t		 len;
	enum usher_err	 rc;

	path = xasprintf("%s/%s/%s/%s.%s", dir, locale_names[loc],
	    tdefs[id].page ? "page" : "mail", tdefs[id].name,
	    part_suffix[part]);
	rc = read_file(path, &t->text, &len);
	if (rc == USHER_OK && part == TP_SUBJECT)
		rc = fix_subject(t, len, path);
	if (rc == USHER_OK && tdefs[id].page)
		rc = expand_includes(t, dir, path);
	if (rc == USHER_OK)
		rc = parse(t, path, tdefs[id].allowed);
	free(path);
	return rc;
}

/* Load every file of one locale; goes on past errors to log them all. */
static enum usher_err
load_locale(struct tset *s, const char *dir, enum tmpl_locale loc)
{
	enum usher_err	 rc = USHER_OK, e;
	size_t		 id, part;

	for (id = 0; id < T__MAX; id++)
		for (part = 0; part < TP__MAX; part++) {
			if (tdefs[id].page && part != TP_HTML)
				continue;
			e = load_one(&s->t[loc][id][part], dir, loc,
			    (enum tmpl_id)id, (enum tmpl_part)part);
			if (rc == USHER_OK)
				rc = e;
		}
	return rc;
}

/*
 * All or nothing: on any error the new set is dropped and the one loaded
 * before (if any) stays in use, so a bad edit cannot half-replace it.
 */
enum usher_err
tmpl_load(const char *dir)
{
	struct stat	 st;
	struct tset	*s;
	enum usher_err	 rc = USHER_OK, e;
	size_t		 loc;

	if (dir == NULL || stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		log_error("%s: no template folder",
		    dir != NULL ? dir : "(null)");
		return USHER_ERR_CONFIG;
	}
	s = xcalloc(1, sizeof(*s));
	for (loc = 0; loc < TMPL_LOCALE__MAX; loc++) {
		e = load_locale(s, dir, (enum tmpl_locale)loc);
		if (rc == USHER_OK)
			rc = e;
	}
	if (rc != USHER_OK) {
		log_error("%s: templates not loaded", dir);
		goto out;
	}
	tset_free(loaded);
	loaded = s;
	s = NULL;
out:
	tset_free(s);
	return rc;
}

void
tmpl_free(void)
{
	tset_free(loaded);
	loaded = NULL;
}

/* ---- rendering ---- */

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* RFC 3986 2.3 unreserved. */
static int
is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/*
 * RFC 3986 2.2 reserved, but for the apostrophe: we want no quote of
 * either kind in a link, even an escaped one.
 */
static int
is_reserved(unsigned char c)
{
	return c != '\0' && strchr(":/?#[]@!$&()*+,;=", c) != NULL;
}

/*
 * An absolute http(s) URL (scheme in lower case) with a non-empty
 * authority, made only of unreserved and reserved characters and
 * well-formed %XX escapes: no space, quote, <, >, backslash, control or
 * non-ASCII byte, so it cannot leave an attribute or become javascript:.
 */
static int
valid_url(const char *s)
{
	size_t	i;

	if (strncmp(s, "https://", 8) == 0)
		s += 8;
	else if (strncmp(s, "http://", 7) == 0)
		s += 7;
	else
		return 0;
	if (*s == '\0' || *s == '/')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '%') {
			if (!is_hex((unsigned char)s[i + 1]) ||
			    !is_hex((unsigned char)s[i + 2]))
				return 0;
			i += 2;
		} else if (!is_unreserved((unsigned char)s[i]) &&
		    !is_reserved((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* 1 when valid UTF-8 s holds a C1 control (U+0080..U+009F). */
static int
has_c1(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)s[0] == 0xc2 &&
		    (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f)
			return 1;
	return 0;
}

/*
 * Why value v may not fill placeholder var in part, or NULL when it may.
 * Every value is UTF-8; a subject takes no control character (CR, LF and
 * TAB included: no header injection), a text body none but LF and TAB;
 * HTML takes anything, escaped later. Links must pass valid_url().
 */
static const char *
value_fault(enum tmpl_part part, enum tmpl_var var, const char *v)
{
	size_t	len;

	if (v == NULL)
		return "no value";
	len = strlen(v);
	if (!valid_utf8(v, len))
		return "not UTF-8";
	if (part == TP_SUBJECT && (!valid_controls(v, len, "") || has_c1(v)))
		return "control character in a subject";
	if (part == TP_TEXT && (!valid_controls(v, len, "\n\t") ||
	    has_c1(v)))
		return "control character in text";
	if ((BIT(var) & V_URLS) != 0 && !valid_url(v))
		return "not an absolute http(s) URL of safe characters";
	return NULL;
}

static const char *
html_entity(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	default:
		return "&#39;";
	}
}

/* Append s with & < > " ' escaped: safe in text and quoted attributes. */
static void
add_html(struct buf *b, const char *s)
{
	size_t	run;

	for (;;) {
		run = strcspn(s, "&<>\"'");
		buf_add(b, s, run);
		s += run;
		if (*s == '\0')
			break;
		buf_str(b, html_entity(*s));
		s++;
	}
}

/*
 * Render template [loc][id][part] with vars into *out (caller frees).
 * Every placeholder it uses is checked before anything is written.
 */
static enum usher_err
render(enum tmpl_locale loc, enum tmpl_id id, enum tmpl_part part,
    const struct tmpl_vars *vars, char **out)
{
	const struct tpl	*t;
	const struct seg	*s;
	const char		*why;
	struct buf		 b;
	size_t			 i;

	if (loaded == NULL) {
		log_error("templates not loaded");
		return USHER_ERR_INTERNAL;
	}
	t = &loaded->t[loc][id][part];
	for (i = 0; i < TV__MAX; i++) {
		if ((t->used & BIT(i)) == 0)
			continue;
		why = value_fault(part, (enum tmpl_var)i, vars->v[i]);
		if (why != NULL) {
			/* the value may be a secret (a link): name it only */
			log_warn("%s %s.%s: {{%s}} refused: %s",
			    locale_names[loc], tdefs[id].name,
			    part_suffix[part], var_names[i], why);
			return USHER_ERR_INVALID;
		}
	}
	buf_init(&b, TMPL_OUT_MAX);
	for (i = 0; i < t->nsegs; i++) {
		s = &t->segs[i];
		if (s->var == TV__MAX)
			buf_add(&b, t->text + s->off, s->len);
		else if (part == TP_HTML)
			add_html(&b, vars->v[s->var]);
		else
			buf_str(&b, vars->v[s->var]);
	}
	if (b.over)
		log_warn("%s %s.%s: output over %d bytes", locale_names[loc],
		    tdefs[id].name, part_suffix[part], TMPL_OUT_MAX);
	return buf_take(&b, out, NULL);
}

/* The template called name, a page or a mail as page says, or T__MAX. */
static enum tmpl_id
tmpl_lookup(const char *name, int page)
{
	size_t	i;

	if (name == NULL)
		return T__MAX;
	for (i = 0; i < T__MAX; i++)
		if (tdefs[i].page == page && strcmp(tdefs[i].name, name) == 0)
			return (enum tmpl_id)i;
	return T__MAX;
}

/* Look name up and check the enums; logs a caller's mistake. */
static enum usher_err
tmpl_find(const char *name, int page, enum tmpl_part part,
    enum tmpl_locale loc, enum tmpl_id *id)
{
	*id = tmpl_lookup(name, page);
	if (*id == T__MAX) {
		log_error("no %s template \"%s\"", page ? "page" : "mail",
		    name != NULL ? name : "(null)");
		return USHER_ERR_NOT_FOUND;
	}
	if ((unsigned int)part >= TP__MAX ||
	    (unsigned int)loc >= TMPL_LOCALE__MAX) {
		log_error("%s: bad part %d or locale %d", name, (int)part,
		    (int)loc);
		return USHER_ERR_INVALID;
	}
	return USHER_OK;
}

/* A mail part or a page by name; vars may be NULL (no value given). */
static enum usher_err
find_render(const char *name, int page, enum tmpl_part part,
    enum tmpl_locale loc, const struct tmpl_vars *vars, char **out)
{
	static const struct tmpl_vars	 none;
	enum tmpl_id			 id;
	enum usher_err			 rc;

	*out = NULL;
	rc = tmpl_find(name, page, part, loc, &id);
	if (rc != USHER_OK)
		return rc;
	return render(loc, id, part, vars != NULL ? vars : &none, out);
}

/* vars may be NULL (no value given); *out is NULL on failure. */
enum usher_err
tmpl_mail(const char *name, enum tmpl_part part, enum tmpl_locale loc,
    const struct tmpl_vars *vars, char **out)
{
	return find_render(name, 0, part, loc, vars, out);
}

/* vars may be NULL (no value given); *out is NULL on failure. */
enum usher_err
tmpl_page(const char *name, enum tmpl_locale loc,
    const struct tmpl_vars *vars, char **out)
{
	return find_render(name, 1, TP_HTML, loc, vars, out);
}

/* ---- names and links ---- */

enum tmpl_locale
tmpl_locale_parse(const char *s)
{
	size_t	i;

	if (s == NULL)
		return TMPL_EN;
	for (i = 0; i < TMPL_LOCALE__MAX; i++)
		if (strcmp(s, locale_names[i]) == 0)
			return (enum tmpl_locale)i;
	return TMPL_EN;
}

/* Static text; never NULL: out of range is "en", the fallback. */
const char *
tmpl_locale_name(enum tmpl_locale loc)
{
	if ((unsigned int)loc >= TMPL_LOCALE__MAX)
		return locale_names[TMPL_EN];
	return locale_names[loc];
}

const char *
tmpl_var_name(enum tmpl_var v)
{
	if ((unsigned int)v >= TV__MAX)
		return NULL;
	return var_names[v];
}

/*
 * A new string (caller frees); NULL when base, path or token is NULL.
 * The token is percent-encoded with upper-case hex (RFC 3986 2.1), only
 * unreserved characters (2.3) kept as they are.
 */
char *
tmpl_link(const char *base, const char *path, const char *token)
{
	static const char	 hex[] = "0123456789ABCDEF", q[] = "?token=";
	size_t			 blen, plen, tlen;
	unsigned char		 c;
	char			*out, *p;

	if (base == NULL || path == NULL || token == NULL)
		return NULL;
	blen = strlen(base);
	plen = strlen(path);
	tlen = strlen(token);
	if (tlen > (SIZE_MAX - blen - plen - sizeof(q)) / 3)
		return NULL;
	out = xmalloc(blen + plen + sizeof(q) + 3 * tlen);
	memcpy(out, base, blen);
	memcpy(out + blen, path, plen);
	memcpy(out + blen + plen, q, sizeof(q) - 1);
	p = out + blen + plen + sizeof(q) - 1;
	for (; *token != '\0'; token++) {
		c = (unsigned char)*token;
		if (is_unreserved(c))
			*p++ = (char)c;
		else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 0x0f];
		}
	}
	*p = '\0';
	return out;
}

/* ---- Accept-Language (RFC 9110 12.5.4, RFC 4647 2.1) ---- */

#define Q_UNSET		(-1)
#define AT_NONE		ACCEPT_ENTRIES	/* after any entry read */
#define RANGE_BAD	(-1)
#define RANGE_STAR	(TMPL_LOCALE__MAX)
#define RANGE_OTHER	(TMPL_LOCALE__MAX + 1)

/* What a header said of our locales; q in thousandths. */
struct accept {
	int	q[TMPL_LOCALE__MAX];	/* best q of a range naming it */
	int	at[TMPL_LOCALE__MAX];	/* entry that first named it */
	int	star_q, star_at;	/* "*": each locale not named */
};

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_alnum(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Narrow [*s, *s + *len) to drop white space at both ends. */
static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && is_ows(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_ows((*s)[*len - 1]))
		(*len)--;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
static int
parse_qvalue(const char *s, size_t len)
{
	size_t	i;
	int	q, scale = 100;

	if (len == 0 || (s[0] != '0' && s[0] != '1'))
		return Q_UNSET;
	q = (s[0] - '0') * 1000;
	if (len == 1)
		return q;
	if (s[1] != '.' || len > 5)
		return Q_UNSET;
	for (i = 2; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return Q_UNSET;
		q += (s[i] - '0') * scale;
		scale /= 10;
	}
	return q > 1000 ? Q_UNSET : q;
}

/* ( "-" 1*8alphanum ) repeated, as after a language range's first tag. */
static int
valid_subtags(const char *s, size_t len)
{
	size_t	i = 0, n;

	while (i < len) {
		if (s[i++] != '-')
			return 0;
		for (n = 0; i < len && is_alnum(s[i]); n++)
			i++;
		if (n == 0 || n > 8)
			return 0;
	}
	return 1;
}

/* Our locale for a language range, RANGE_STAR, RANGE_OTHER or _BAD. */
static int
range_locale(const char *s, size_t len)
{
	size_t	n, i;

	if (len == 1 && s[0] == '*')
		return RANGE_STAR;
	for (n = 0; n < len && is_alpha(s[n]); n++)
		continue;
	if (n == 0 || n > 8 || !valid_subtags(s + n, len - n))
		return RANGE_BAD;
	for (i = 0; i < TMPL_LOCALE__MAX && n == 2; i++)
		if ((s[0] | 0x20) == locale_names[i][0] &&
		    (s[1] | 0x20) == locale_names[i][1])
			return (int)i;
	return RANGE_OTHER;
}

/* Note one entry, s[0, len), the idx-th: range [ OWS ";" OWS "q=" q ]. */
static void
accept_entry(struct accept *a, const char *s, size_t len, int idx)
{
	const char	*semi, *w;
	size_t		 rlen, wlen;
	int		 q = 1000, r;

	trim(&s, &len);
	semi = memchr(s, ';', len);
	rlen = semi != NULL ? (size_t)(semi - s) : len;
	if (semi != NULL) {
		w = semi + 1;
		wlen = len - rlen - 1;
		trim(&w, &wlen);
		if (wlen < 2 || (w[0] | 0x20) != 'q' || w[1] != '=')
			return;
		q = parse_qvalue(w + 2, wlen - 2);
		if (q == Q_UNSET)
			return;
	}
	trim(&s, &rlen);
	r = range_locale(s, rlen);
	if (r == RANGE_STAR && a->star_q == Q_UNSET) {
		a->star_q = q;
		a->star_at = idx;
	} else if (r >= 0 && r < TMPL_LOCALE__MAX) {
		if (a->q[r] == Q_UNSET)
			a->at[r] = idx;
		if (q > a->q[r])
			a->q[r] = q;
	}
}

/* Highest q above 0, ties to the earlier entry, then to enum order. */
static enum tmpl_locale
accept_best(const struct accept *a)
{
	enum tmpl_locale	best = TMPL_EN;
	size_t			i;
	int			q, at, bestq = 0, bestat = AT_NONE;

	for (i = 0; i < TMPL_LOCALE__MAX; i++) {
		q = a->q[i] != Q_UNSET ? a->q[i] : a->star_q;
		at = a->q[i] != Q_UNSET ? a->at[i] : a->star_at;
		if (q > bestq || (q == bestq && q > 0 && at < bestat)) {
			best = (enum tmpl_locale)i;
			bestq = q;
			bestat = at;
		}
	}
	return best;
}

/*
 * The primary language subtag decides (uk-UA is uk, case-insensitive);
 * when ranges share one, the highest q counts. "*" gives its q to every
 * locale no range names. Malformed entries are skipped. Only the first
 * ACCEPT_ENTRIES entries wholly inside the first ACCEPT_BYTES bytes are
 * read, so a hostile header costs little. No acceptable locale: en.
 */
enum tmpl_locale
tmpl_locale_accept(const char *h)
{
	struct accept	a;
	size_t		len, start = 0, i;
	int		n = 0, cut;

	if (h == NULL)
		return TMPL_EN;
	for (i = 0; i < TMPL_LOCALE__MAX; i++) {
		a.q[i] = Q_UNSET;
		a.at[i] = AT_NONE;
	}
	a.star_q = Q_UNSET;
	a.star_at = AT_NONE;
	len = strnlen(h, ACCEPT_BYTES + 1);
	cut = len > ACCEPT_BYTES;
	if (cut)
		len = ACCEPT_BYTES;
	for (i = 0; i <= len && n < ACCEPT_ENTRIES; i++) {
		if (i < len && h[i] != ',')
			continue;
		if (i == len && cut)
			break;	/* an entry cut short is not read */
		accept_entry(&a, h + start, i - start, n++);
		start = i + 1;
	}
	return accept_best(&a);
}
