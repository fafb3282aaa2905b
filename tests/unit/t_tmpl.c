/* t_tmpl.c -- unit tests of lib/tmpl.c: load, render, escape, refuse, locale */
#include "config.h"

#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tmpl.h"

#ifndef TEST_TEMPLATES
#error "compile with -DTEST_TEMPLATES='\"/path/to/templates\"'"
#endif

#define B(v)		(1u << (v))
#define ALWAYS		(B(TV_SITE_NAME) | B(TV_USER_NAME))
#define LINKS		(ALWAYS | B(TV_LINK) | B(TV_EXPIRES_AT))
#define FORM		(ALWAYS | B(TV_ACTION) | B(TV_TOKEN) | \
			    B(TV_MIN_LENGTH))

#define SAMPLE_LINK	"https://auth.example.org/verify?token=abc123"
#define SAMPLE_ACTION	"https://auth.example.org/reset"
#define NASTY		"<script>\"x\"&'"
#define NASTY_HTML	"&lt;script&gt;&quot;x&quot;&amp;&#39;"

static const char *const locales[TMPL_LOCALE__MAX] = { "en", "uk", "ru" };
static const char *const suffixes[TP__MAX] = { "subject", "txt", "html" };
static const char *const mails[] = {
	"verify_email", "password_reset", "password_changed",
	"username_reminder", "email_change_confirm", "email_change_notice",
	"notification"
};
static const char *const pages[] = {
	"verify_ok", "verify_failed", "reset_form", "reset_retry",
	"reset_done", "reset_failed"
};

/* Values with no HTML special character, so they show as they are. */
static void
sample(struct tmpl_vars *v)
{
	memset(v, 0, sizeof(*v));
	v->v[TV_SITE_NAME] = "Example Site";
	v->v[TV_USER_NAME] = "Alice Liddell";
	v->v[TV_LINK] = SAMPLE_LINK;
	v->v[TV_EXPIRES_AT] = "2030-01-02 03:04 UTC";
	v->v[TV_CHANGED_AT] = "2030-05-06 07:08 UTC";
	v->v[TV_LOGIN] = "alice_l";
	v->v[TV_NEW_EMAIL] = "new@example.org";
	v->v[TV_OLD_EMAIL] = "old@example.org";
	v->v[TV_TITLE] = "Planned maintenance";
	v->v[TV_BODY] = "The service stops at 22:00.\nIt is back by 23:00.";
	v->v[TV_ACTION] = SAMPLE_ACTION;
	v->v[TV_TOKEN] = "tok_ABC-123";
	v->v[TV_MIN_LENGTH] = "12";
}

/* 1 when out holds the value of every placeholder in mask. */
static int
shows(const char *out, const struct tmpl_vars *v, unsigned int mask)
{
	size_t	i;

	for (i = 0; i < TV__MAX; i++)
		if ((mask & B(i)) != 0 && strstr(out, v->v[i]) == NULL)
			return 0;
	return 1;
}

static int
has(const char *out, const char *s)
{
	return out != NULL && strstr(out, s) != NULL;
}

/* Render a mail part or (page != 0) a page; *out NULL on failure. */
static enum usher_err
render(const char *name, int page, enum tmpl_part part, enum tmpl_locale loc,
    const struct tmpl_vars *v, char **out)
{
	if (page)
		return tmpl_page(name, loc, v, out);
	return tmpl_mail(name, part, loc, v, out);
}

static void
test_load_real(void)
{
	ok(tmpl_load(NULL) == USHER_ERR_CONFIG, "tmpl_load(NULL) refused");
	ok(tmpl_load("/nonexistent/templates") == USHER_ERR_CONFIG,
	    "a missing folder is a config error");
	if (!ok(tmpl_load(TEST_TEMPLATES) == USHER_OK, "%s loads",
	    TEST_TEMPLATES))
		bail_out("the real templates do not load");
	ok(tmpl_load(TEST_TEMPLATES) == USHER_OK, "loading again succeeds");
}

/* A template and the sample values each of its parts must show. */
struct rcase {
	int		 line;
	const char	*name;
	int		 page;
	unsigned int	 subject;	/* values its subject shows */
	unsigned int	 body;		/* values .txt, .html show */
};

/* Render every part of one template in loc; check what comes out. */
static void
render_parts(const struct rcase *c, enum tmpl_locale loc,
    const struct tmpl_vars *v)
{
	enum usher_err	 rc;
	unsigned int	 want;
	size_t		 part;
	char		*out;

	for (part = 0; part < TP__MAX; part++) {
		if (c->page && part != TP_HTML)
			continue;
		want = part == TP_SUBJECT ? c->subject : c->body;
		rc = render(c->name, c->page, (enum tmpl_part)part, loc, v,
		    &out);
		ok_at(c->line, rc == USHER_OK && out != NULL &&
		    !has(out, "{{") && shows(out, v, want) &&
		    (part != TP_SUBJECT || strpbrk(out, "\r\n") == NULL),
		    "%s %s.%s renders with its values", locales[loc],
		    c->name, suffixes[part]);
		free(out);
	}
}

/* Every part of every template, every locale, with all sample values. */
static void
test_render_all(void)
{
	static const struct rcase t[] = {
		{ __LINE__, "verify_email", 0, B(TV_SITE_NAME), LINKS },
		{ __LINE__, "password_reset", 0, B(TV_SITE_NAME), LINKS },
		{ __LINE__, "password_changed", 0, B(TV_SITE_NAME),
		  ALWAYS | B(TV_CHANGED_AT) },
		{ __LINE__, "username_reminder", 0, B(TV_SITE_NAME),
		  ALWAYS | B(TV_LOGIN) },
		{ __LINE__, "email_change_confirm", 0, B(TV_SITE_NAME),
		  LINKS | B(TV_NEW_EMAIL) },
		{ __LINE__, "email_change_notice", 0, B(TV_SITE_NAME),
		  ALWAYS | B(TV_OLD_EMAIL) | B(TV_NEW_EMAIL) },
		{ __LINE__, "notification", 0, B(TV_TITLE),
		  ALWAYS | B(TV_TITLE) | B(TV_BODY) },
		{ __LINE__, "verify_ok", 1, 0, B(TV_SITE_NAME) },
		{ __LINE__, "verify_failed", 1, 0, B(TV_SITE_NAME) },
		{ __LINE__, "reset_form", 1, 0, FORM },
		{ __LINE__, "reset_retry", 1, 0, FORM },
		{ __LINE__, "reset_done", 1, 0, B(TV_SITE_NAME) },
		{ __LINE__, "reset_failed", 1, 0, B(TV_SITE_NAME) },
	};
	struct tmpl_vars	v;
	size_t			i, loc;

	sample(&v);
	for (loc = 0; loc < TMPL_LOCALE__MAX; loc++)
		for (i = 0; i < nitems(t); i++)
			render_parts(&t[i], (enum tmpl_locale)loc, &v);
}

static void
test_escaping(void)
{
	struct tmpl_vars	 v;
	char			*txt = NULL, *html = NULL;

	sample(&v);
	v.v[TV_USER_NAME] = NASTY;
	v.v[TV_LINK] = "https://a.example/v?a=1&b=2";
	ok(tmpl_mail("verify_email", TP_HTML, TMPL_EN, &v, &html) ==
	    USHER_OK && tmpl_mail("verify_email", TP_TEXT, TMPL_EN, &v,
	    &txt) == USHER_OK, "verify_email renders a hostile user_name");
	ok(has(html, NASTY_HTML) && !has(html, "<script>") &&
	    !has(html, "\"x\""), "user_name HTML-escaped in .html");
	ok(has(txt, NASTY), "user_name verbatim in .txt");
	ok(has(html, "v?a=1&amp;b=2") && !has(html, "a=1&b=2"),
	    "link's & becomes &amp; in .html");
	ok(has(txt, "v?a=1&b=2"), "link as is in .txt");
	free(html);
	free(txt);

	sample(&v);
	v.v[TV_TOKEN] = "a\"b<c>'d&e";
	v.v[TV_SITE_NAME] = "\xd0\xa1\xd0\xb0\xd0\xb9\xd1\x82";
	ok(tmpl_page("reset_form", TMPL_UK, &v, &html) == USHER_OK &&
	    has(html, "value=\"a&quot;b&lt;c&gt;&#39;d&amp;e\"") &&
	    has(html, "\xd0\xa1\xd0\xb0\xd0\xb9\xd1\x82"),
	    "reset_form: token escaped in its attribute, UTF-8 kept");
	free(html);
}

/* One placeholder set to a value (or NULL), the rest from sample(). */
static void
test_refusals(void)
{
	static const struct {
		int		 line;
		const char	*name;
		int		 page;
		enum tmpl_part	 part;
		enum tmpl_var	 var;
		const char	*val;
		enum usher_err	 want;
	} t[] = {
		/* header injection and controls in a subject */
		{ __LINE__, "verify_email", 0, TP_SUBJECT, TV_SITE_NAME,
		  "Site\r\nBcc: x@evil.example", USHER_ERR_INVALID },
		{ __LINE__, "notification", 0, TP_SUBJECT, TV_TITLE,
		  "Hi\r\nBcc: x", USHER_ERR_INVALID },
		{ __LINE__, "notification", 0, TP_SUBJECT, TV_TITLE,
		  "Hi\nBcc: x", USHER_ERR_INVALID },
		{ __LINE__, "notification", 0, TP_SUBJECT, TV_TITLE,
		  "Hi\rBcc: x", USHER_ERR_INVALID },
		{ __LINE__, "notification", 0, TP_SUBJECT, TV_TITLE,
		  "a\tb", USHER_ERR_INVALID },
		{ __LINE__, "notification", 0, TP_SUBJECT, TV_TITLE,
		  "a\x7f", USHER_ERR_INVALID },
		{ __LINE__, "notification", 0, TP_SUBJECT, TV_TITLE,
		  "a\xc2\x85" "b", USHER_ERR_INVALID },		/* NEL */
		{ __LINE__, "notification", 0, TP_SUBJECT, TV_TITLE,
		  "Maintenance \xe2\x80\x94 tonight", USHER_OK },
		/* a value the part does not use is not looked at */
		{ __LINE__, "notification", 0, TP_SUBJECT, TV_BODY,
		  "a\nb", USHER_OK },
		{ __LINE__, "verify_email", 0, TP_SUBJECT, TV_USER_NAME,
		  "x\r\nBcc: y", USHER_OK },	/* test_scratch_subject */
		/* text body: LF and TAB only */
		{ __LINE__, "notification", 0, TP_TEXT, TV_BODY,
		  "Line one\nLine two\n\tindented", USHER_OK },
		{ __LINE__, "notification", 0, TP_TEXT, TV_BODY,
		  "a\r\nb", USHER_ERR_INVALID },
		{ __LINE__, "notification", 0, TP_TEXT, TV_BODY,
		  "a\rb", USHER_ERR_INVALID },
		{ __LINE__, "notification", 0, TP_TEXT, TV_BODY,
		  "a\x1b[31mb", USHER_ERR_INVALID },
		{ __LINE__, "notification", 0, TP_TEXT, TV_BODY,
		  "a\x0c", USHER_ERR_INVALID },
		{ __LINE__, "notification", 0, TP_TEXT, TV_BODY,
		  "\xc2\x9b" "31m", USHER_ERR_INVALID },	/* C1 CSI */
		{ __LINE__, "notification", 0, TP_TEXT, TV_TITLE,
		  "a\x7f", USHER_ERR_INVALID },
		{ __LINE__, "notification", 0, TP_HTML, TV_BODY,
		  "a\nb", USHER_OK },
		/* no value for a placeholder in use */
		{ __LINE__, "verify_email", 0, TP_TEXT, TV_LINK, NULL,
		  USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_EXPIRES_AT, NULL,
		  USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_SUBJECT, TV_SITE_NAME, NULL,
		  USHER_ERR_INVALID },
		{ __LINE__, "username_reminder", 0, TP_HTML, TV_LOGIN, NULL,
		  USHER_ERR_INVALID },
		{ __LINE__, "reset_form", 1, TP_HTML, TV_TOKEN, NULL,
		  USHER_ERR_INVALID },
		{ __LINE__, "verify_ok", 1, TP_HTML, TV_SITE_NAME, NULL,
		  USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_SUBJECT, TV_LINK, NULL,
		  USHER_OK },
		{ __LINE__, "password_changed", 0, TP_TEXT, TV_LINK, NULL,
		  USHER_OK },
		{ __LINE__, "reset_done", 1, TP_HTML, TV_TOKEN, NULL,
		  USHER_OK },
		{ __LINE__, "verify_email", 0, TP_TEXT, TV_USER_NAME, "",
		  USHER_OK },
		/* links: absolute http(s), safe characters only */
		{ __LINE__, "verify_email", 0, TP_TEXT, TV_LINK,
		  "javascript:alert(1)", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "javascript:alert(1)", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "JavaScript:alert(1)", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "data:text/html,x", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "https://a.example/x y", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "https://a.example/\"onmouseover=x", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "https://a.example/'x", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "https://a.example/<x>", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "https://a.example/a\\b", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "https://a.example/\n", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "https://a.example/\xc3\xa4", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "https://a.example/`x`", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "https://a.example/{x}", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "https://", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "https:///x", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "//a.example/x", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "/verify?token=x", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "ftp://a.example/x", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "HTTPS://a.example/x", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  " https://a.example/", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "https://a.example/%zz", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "https://a.example/%2", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_LINK,
		  "https://a.example/%2F?a=1&b=[2]#f", USHER_OK },
		{ __LINE__, "email_change_confirm", 0, TP_TEXT, TV_LINK,
		  "http://localhost:8080/confirm?token=x~y", USHER_OK },
		{ __LINE__, "reset_retry", 1, TP_HTML, TV_ACTION,
		  "javascript:alert(1)", USHER_ERR_INVALID },
		{ __LINE__, "reset_form", 1, TP_HTML, TV_ACTION,
		  "https://a.example/reset\"><x", USHER_ERR_INVALID },
		{ __LINE__, "reset_form", 1, TP_HTML, TV_ACTION,
		  "https://a.example/reset", USHER_OK },
		/* invalid UTF-8, wherever it goes */
		{ __LINE__, "verify_email", 0, TP_TEXT, TV_USER_NAME,
		  "Al\xff" "ce", USHER_ERR_INVALID },
		{ __LINE__, "verify_email", 0, TP_HTML, TV_USER_NAME,
		  "Al\xc3", USHER_ERR_INVALID },		/* truncated */
		{ __LINE__, "verify_email", 0, TP_HTML, TV_USER_NAME,
		  "\xc0\xaf", USHER_ERR_INVALID },		/* overlong */
		{ __LINE__, "verify_email", 0, TP_HTML, TV_USER_NAME,
		  "\xed\xa0\x80", USHER_ERR_INVALID },	/* surrogate */
		{ __LINE__, "verify_email", 0, TP_SUBJECT, TV_SITE_NAME,
		  "Site\xfe", USHER_ERR_INVALID },
		{ __LINE__, "verify_failed", 1, TP_HTML, TV_SITE_NAME,
		  "\x80", USHER_ERR_INVALID },
	};
	static char		 unset;	/* *out must not stay this */
	struct tmpl_vars	 v;
	enum usher_err		 rc;
	size_t			 i;
	char			*out;

	for (i = 0; i < nitems(t); i++) {
		sample(&v);
		v.v[t[i].var] = t[i].val;
		out = &unset;
		rc = render(t[i].name, t[i].page, t[i].part, TMPL_EN, &v,
		    &out);
		ok_at(t[i].line, rc == t[i].want && out != &unset &&
		    (rc == USHER_OK) == (out != NULL),
		    "refusals case %zu: %s.%s {{%s}}: %s", i, t[i].name,
		    suffixes[t[i].part], tmpl_var_name(t[i].var),
		    usher_strerror(t[i].want));
		if (out != &unset)
			free(out);
	}
}

static void
test_lookup(void)
{
	struct tmpl_vars	 v;
	char			*out;

	sample(&v);
	ok(tmpl_mail("nope", TP_TEXT, TMPL_EN, &v, &out) ==
	    USHER_ERR_NOT_FOUND && out == NULL, "unknown mail");
	ok(tmpl_mail(NULL, TP_TEXT, TMPL_EN, &v, &out) ==
	    USHER_ERR_NOT_FOUND, "NULL name");
	ok(tmpl_mail("verify_ok", TP_HTML, TMPL_EN, &v, &out) ==
	    USHER_ERR_NOT_FOUND, "a page is no mail");
	ok(tmpl_page("verify_email", TMPL_EN, &v, &out) ==
	    USHER_ERR_NOT_FOUND, "a mail is no page");
	ok(tmpl_page("verify_ok.html", TMPL_EN, &v, &out) ==
	    USHER_ERR_NOT_FOUND, "names carry no suffix");
	ok(tmpl_mail("verify_email", TP__MAX, TMPL_EN, &v, &out) ==
	    USHER_ERR_INVALID && out == NULL, "part out of range");
	ok(tmpl_page("verify_ok", TMPL_LOCALE__MAX, &v, &out) ==
	    USHER_ERR_INVALID && out == NULL, "locale out of range");
	ok(tmpl_page("verify_ok", TMPL_EN, NULL, &out) ==
	    USHER_ERR_INVALID && out == NULL, "NULL vars: no site_name");
}

static void
test_too_large(void)
{
	struct tmpl_vars	 v;
	char			*big, *out;
	size_t			 n = 100 * 1024;

	big = malloc(3 * n + 1);
	if (big == NULL)
		bail_out("malloc");
	sample(&v);
	v.v[TV_BODY] = big;
	memset(big, 'a', n);
	big[n] = '\0';
	ok(tmpl_mail("notification", TP_TEXT, TMPL_EN, &v, &out) ==
	    USHER_OK && strlen(out) > n, "a 100 KiB body renders");
	free(out);
	memset(big, '&', n);	/* 500 KiB once escaped */
	ok(tmpl_mail("notification", TP_HTML, TMPL_EN, &v, &out) ==
	    USHER_ERR_TOO_LARGE && out == NULL,
	    "HTML escaping past the cap: TOO_LARGE");
	memset(big, 'a', 3 * n);
	big[3 * n] = '\0';
	ok(tmpl_mail("notification", TP_TEXT, TMPL_EN, &v, &out) ==
	    USHER_ERR_TOO_LARGE && out == NULL, "a 300 KiB body: TOO_LARGE");
	free(big);
}

/* ---- a scratch copy of the templates, broken one file at a time ---- */

static char	scratch[64];

static const char *
spath(const char *rel)
{
	static char	path[256];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", scratch, rel) >=
	    sizeof(path))
		bail_out("spath: too long");
	return path;
}

static void
write_file(const char *path, const char *text, size_t len, const char *mode)
{
	FILE	*f;

	f = fopen(path, mode);
	if (f == NULL)
		bail_out("write_file: fopen");
	if (fwrite(text, 1, len, f) != len || fclose(f) != 0)
		bail_out("write_file: write");
}

/* Copy TEST_TEMPLATES/rel to the scratch folder. */
static void
copy_in(const char *rel)
{
	static char	buf[128 * 1024];
	char		from[256];
	FILE		*f;
	size_t		 n;

	snprintf(from, sizeof(from), "%s/%s", TEST_TEMPLATES, rel);
	f = fopen(from, "r");
	if (f == NULL)
		bail_out("copy_in: fopen");
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	write_file(spath(rel), buf, n, "w");
}

static void
make_dir(const char *rel)
{
	if (mkdir(spath(rel), 0700) == -1)
		bail_out("mkdir");
}

/* Copy one locale's folder of templates to the scratch folder. */
static void
copy_locale(const char *loc)
{
	char	rel[128];
	size_t	i, part;

	make_dir(loc);
	snprintf(rel, sizeof(rel), "%s/mail", loc);
	make_dir(rel);
	snprintf(rel, sizeof(rel), "%s/page", loc);
	make_dir(rel);
	for (i = 0; i < nitems(mails); i++)
		for (part = 0; part < TP__MAX; part++) {
			snprintf(rel, sizeof(rel), "%s/mail/%s.%s", loc,
			    mails[i], suffixes[part]);
			copy_in(rel);
		}
	for (i = 0; i < nitems(pages); i++) {
		snprintf(rel, sizeof(rel), "%s/page/%s.html", loc, pages[i]);
		copy_in(rel);
	}
}

static void
make_scratch(void)
{
	const char	*tmp;
	size_t		 loc;

	tmp = getenv("TMPDIR");
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 32)
		tmp = "/tmp";
	snprintf(scratch, sizeof(scratch), "%s/t_tmpl.XXXXXX", tmp);
	if (mkdtemp(scratch) == NULL)
		bail_out("mkdtemp");
	for (loc = 0; loc < TMPL_LOCALE__MAX; loc++)
		copy_locale(locales[loc]);
	copy_in("page_head.html");
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
remove_scratch(void)
{
	if (scratch[0] != '\0' &&
	    nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS) == -1)
		diag("could not remove %s", scratch);
}

/* Put the scratch file rel back as it was (it may now be a folder). */
static void
restore(const char *rel)
{
	struct stat	st;

	if (lstat(spath(rel), &st) == 0 && S_ISDIR(st.st_mode))
		rmdir(spath(rel));
	copy_in(rel);
}

enum act { APPEND, REPLACE, REMOVE, MKDIR };

/* Spoil scratch file rel: add or write text (len 0: strlen), or remove it. */
static void
break_file(const char *rel, enum act act, const char *text, size_t len)
{
	if (text != NULL && len == 0)
		len = strlen(text);
	if (act == APPEND || act == REPLACE)
		write_file(spath(rel), text, len, act == APPEND ? "a" : "w");
	else if (act == REMOVE)
		unlink(spath(rel));
	else if (unlink(spath(rel)) == -1 || mkdir(spath(rel), 0700) == -1)
		bail_out("break_file: mkdir");
}

/* Render the template that a file rel ("en/mail/x.txt") holds. */
static enum usher_err
render_rel(const char *rel, const struct tmpl_vars *v, char **out)
{
	const char	*dot;
	char		 name[64];
	size_t		 loc, part, n;

	dot = strrchr(rel, '.');
	if (dot == NULL || dot < rel + 9 || (size_t)(dot - rel) - 8 >=
	    sizeof(name))
		bail_out("render_rel: bad path");
	n = (size_t)(dot - rel) - 8;
	memcpy(name, rel + 8, n);
	name[n] = '\0';
	for (loc = 0; loc < TMPL_LOCALE__MAX; loc++)
		if (strncmp(rel, locales[loc], 2) == 0)
			break;
	for (part = 0; part < TP__MAX; part++)
		if (strcmp(dot + 1, suffixes[part]) == 0)
			break;
	return render(name, rel[3] == 'p', (enum tmpl_part)part,
	    (enum tmpl_locale)loc, v, out);
}

static char	file64k[64 * 1024 + 2];

static void
test_scratch(void)
{
	static const struct {
		int		 line;
		const char	*rel;
		enum act	 act;
		const char	*text;
		size_t		 len;	/* 0: strlen(text) */
		enum usher_err	 want;
	} t[] = {
		{ __LINE__, "en/mail/verify_email.txt", APPEND,
		  "\n}} and { and } are text\n", 0, USHER_OK },
		{ __LINE__, "en/mail/verify_email.txt", APPEND,
		  "{{password}}\n", 0, USHER_ERR_CONFIG },
		{ __LINE__, "uk/page/verify_ok.html", APPEND,
		  "{{site_name\n", 0, USHER_ERR_CONFIG },
		{ __LINE__, "uk/page/verify_ok.html", APPEND,
		  "{{site_name\n}}\n", 0, USHER_ERR_CONFIG },
		{ __LINE__, "uk/page/verify_ok.html", APPEND,
		  "{{", 0, USHER_ERR_CONFIG },
		{ __LINE__, "ru/mail/notification.subject", REMOVE,
		  NULL, 0, USHER_ERR_CONFIG },
		{ __LINE__, "ru/mail/notification.txt", REMOVE,
		  NULL, 0, USHER_ERR_CONFIG },
		{ __LINE__, "ru/page/reset_done.html", REMOVE,
		  NULL, 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/page/reset_failed.html", MKDIR,
		  NULL, 0, USHER_ERR_CONFIG },
		/* allowed elsewhere, not here */
		{ __LINE__, "en/mail/password_changed.html", APPEND,
		  "{{link}}", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/page/verify_ok.html", APPEND,
		  "{{token}}", 0, USHER_ERR_CONFIG },
		{ __LINE__, "uk/mail/notification.txt", APPEND,
		  "{{expires_at}}", 0, USHER_ERR_CONFIG },
		{ __LINE__, "uk/mail/notification.txt", APPEND,
		  "{{body}}{{title}}{{user_name}}", 0, USHER_OK },
		/* malformed names */
		{ __LINE__, "en/mail/notification.txt", APPEND,
		  "{{ title }}", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/mail/notification.txt", APPEND,
		  "{{Title}}", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/mail/notification.txt", APPEND,
		  "{{}}", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/mail/notification.txt", APPEND,
		  "{{{title}}}", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/mail/notification.txt", APPEND,
		  "{{title-x}}", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/mail/notification.txt", APPEND,
		  "{{\xd1\x82\xd0\xb5\xd0\xbc\xd0\xb0}}", 0,
		  USHER_ERR_CONFIG },
		/* includes (pages): a shared file of the top folder */
		{ __LINE__, "en/page/verify_ok.html", APPEND,
		  "{{>page_head.html}}\n", 0, USHER_OK },
		{ __LINE__, "en/page/verify_ok.html", APPEND,
		  "{{>nothing.html}}\n", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/page/verify_ok.html", APPEND,
		  "{{>../en/page/verify_ok.html}}\n", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/page/verify_ok.html", APPEND,
		  "{{>page_head}}\n", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/page/verify_ok.html", APPEND,
		  "{{>Page_head.html}}\n", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/page/verify_ok.html", APPEND,
		  "{{>page_head.html\n}}\n", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/mail/verify_email.html", APPEND,
		  "{{>page_head.html}}\n", 0, USHER_ERR_CONFIG },
		/* subjects: one line */
		{ __LINE__, "en/mail/verify_email.subject", REPLACE,
		  "One line, no newline {{site_name}}", 0, USHER_OK },
		{ __LINE__, "en/mail/verify_email.subject", REPLACE,
		  "Two\nlines\n", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/mail/verify_email.subject", REPLACE,
		  "Two newlines\n\n", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/mail/verify_email.subject", REPLACE,
		  "CRLF\r\n", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/mail/verify_email.subject", REPLACE,
		  "\n", 0, USHER_ERR_CONFIG },
		/* whole files: UTF-8, no NUL, 64 KiB at most */
		{ __LINE__, "en/mail/verify_email.txt", REPLACE,
		  "bad \xff UTF-8", 0, USHER_ERR_CONFIG },
		{ __LINE__, "en/mail/verify_email.txt", REPLACE,
		  "a\0b", 3, USHER_ERR_CONFIG },
		{ __LINE__, "en/mail/verify_email.html", REPLACE,
		  file64k, 64 * 1024, USHER_OK },
		{ __LINE__, "en/mail/verify_email.html", REPLACE,
		  file64k, 64 * 1024 + 1, USHER_ERR_CONFIG },
	};
	struct tmpl_vars	 v;
	enum usher_err		 rc;
	char			*ref, *out;
	size_t			 i;

	memset(file64k, 'x', sizeof(file64k) - 1);
	sample(&v);
	ok(tmpl_load(scratch) == USHER_OK, "an unbroken copy loads");
	for (i = 0; i < nitems(t); i++) {
		/* the template as the set in service renders it now */
		if (render_rel(t[i].rel, &v, &ref) != USHER_OK)
			bail_out("test_scratch: reference");
		break_file(t[i].rel, t[i].act, t[i].text, t[i].len);
		rc = tmpl_load(scratch);
		ok_at(t[i].line, rc == t[i].want, "scratch case %zu: %s: %s",
		    i, t[i].rel, usher_strerror(t[i].want));
		/* a failed load leaves the set loaded before, whole */
		ok_at(t[i].line, render_rel(t[i].rel, &v, &out) == USHER_OK &&
		    (rc == USHER_OK || strcmp(out, ref) == 0),
		    "scratch case %zu: %s in service", i, rc == USHER_OK ?
		    "new set" : "earlier set, unchanged,");
		free(out);
		free(ref);
		restore(t[i].rel);
	}
}

/*
 * The pages' shared head: in every page where its mark stands, read at
 * load; it must exist and hold no placeholder.
 */
static void
test_scratch_include(void)
{
	static const char	 rel[] = "page_head.html";
	static const char	 bad[] =
	    "<meta name=\"x\" content=\"{{site_name}}\">\n";
	struct tmpl_vars	 v;
	char			*out;
	size_t			 loc;

	sample(&v);
	ok(tmpl_load(scratch) == USHER_OK, "pages with their head load");
	for (loc = 0; loc < TMPL_LOCALE__MAX; loc++) {
		ok(tmpl_page("verify_ok", (enum tmpl_locale)loc, &v, &out) ==
		    USHER_OK && strstr(out, "<head>\n<meta charset=\"utf-8\">")
		    != NULL && strstr(out, "<style>\nbody{") != NULL &&
		    strstr(out, "</style>\n<title>") != NULL &&
		    strstr(out, "{{") == NULL,
		    "%s verify_ok: the shared head in place of its mark",
		    locales[loc]);
		free(out);
	}
	write_file(spath(rel), bad, strlen(bad), "a");
	ok(tmpl_load(scratch) == USHER_ERR_CONFIG,
	    "a shared head with a placeholder: refused");
	unlink(spath(rel));
	ok(tmpl_load(scratch) == USHER_ERR_CONFIG,
	    "no shared head: refused");
	copy_in(rel);
	ok(tmpl_load(scratch) == USHER_OK, "restored: loads again");
}

/*
 * A subject that uses user_name (the shipped ones do not): CR LF in it is
 * refused. Then a failed load leaves that set, not the shipped one, in use.
 */
static void
test_scratch_subject(void)
{
	static const char	 rel[] = "en/mail/password_changed.subject";
	struct tmpl_vars	 v;
	char			*out;

	sample(&v);
	write_file(spath(rel), "Hello {{user_name}}\n", 20, "w");
	ok(tmpl_load(scratch) == USHER_OK, "subject with user_name loads");
	v.v[TV_USER_NAME] = "Bob";
	ok(tmpl_mail("password_changed", TP_SUBJECT, TMPL_EN, &v, &out) ==
	    USHER_OK && strcmp(out, "Hello Bob") == 0,
	    "the new set replaced the old: \"Hello Bob\"");
	free(out);
	v.v[TV_USER_NAME] = "x\r\nBcc: victim@example.org";
	ok(tmpl_mail("password_changed", TP_SUBJECT, TMPL_EN, &v, &out) ==
	    USHER_ERR_INVALID && out == NULL,
	    "user_name with CR LF refused in a subject");
	ok(tmpl_mail("password_changed", TP_HTML, TMPL_EN, &v, &out) ==
	    USHER_OK, "... yet fine in HTML");
	free(out);

	/* a good change and a bad one: neither is taken */
	write_file(spath(rel), "Changed {{user_name}}\n", 22, "w");
	write_file(spath("ru/page/verify_ok.html"), "{{password}}", 12, "a");
	ok(tmpl_load(scratch) == USHER_ERR_CONFIG, "broken copy refused");
	v.v[TV_USER_NAME] = "Bob";
	ok(tmpl_mail("password_changed", TP_SUBJECT, TMPL_EN, &v, &out) ==
	    USHER_OK && strcmp(out, "Hello Bob") == 0,
	    "the set loaded before the failure is still whole");
	free(out);
	restore("ru/page/verify_ok.html");
	restore(rel);
	if (tmpl_load(TEST_TEMPLATES) != USHER_OK)
		bail_out("test_scratch_subject: reload");
}

/* ---- locales, names, links ---- */

static char	long_tail[1100], long_head[400], cut_q[300], fit_256[300];
static char	entries_32[200], entries_33[200];

static void
make_headers(void)
{
	size_t	i;

	/* the first entry counts; the rest is past 256 bytes */
	snprintf(long_tail, sizeof(long_tail), "uk,");
	memset(long_tail + 3, 'a', 1000);
	/* ru comes after 256 bytes: never read */
	memset(long_head, ' ', 300);
	snprintf(long_head + 300, sizeof(long_head) - 300, ",ru");
	/*
	 * "ru;q=0.1" straddles byte 256: read cut short it would be "ru"
	 * with q=1, so a cut entry is dropped, not read.
	 */
	snprintf(cut_q, sizeof(cut_q), "en;q=0.5,");
	memset(cut_q + 9, ' ', 245);
	snprintf(cut_q + 254, sizeof(cut_q) - 254, "ru;q=0.1");
	/* the same, ending at byte 256 exactly: read whole */
	snprintf(fit_256, sizeof(fit_256), "en;q=0.5,");
	memset(fit_256 + 9, ' ', 245);
	snprintf(fit_256 + 254, sizeof(fit_256) - 254, "ru");
	if (strlen(cut_q) != 262 || strlen(fit_256) != 256)
		bail_out("make_headers: lengths");
	for (i = 0; i < 31; i++)
		memcpy(entries_32 + 3 * i, "de,", 3);
	snprintf(entries_32 + 93, sizeof(entries_32) - 93, "ru");
	for (i = 0; i < 32; i++)
		memcpy(entries_33 + 3 * i, "de,", 3);
	snprintf(entries_33 + 96, sizeof(entries_33) - 96, "ru");
}

static void
test_accept(void)
{
	static const struct {
		int			 line;
		const char		*in;
		enum tmpl_locale	 want;
	} t[] = {
		{ __LINE__, NULL, TMPL_EN },
		{ __LINE__, "", TMPL_EN },
		{ __LINE__, "uk-UA,uk;q=0.9,en;q=0.8", TMPL_UK },
		{ __LINE__, "ru;q=0.5, en;q=0.9", TMPL_EN },
		{ __LINE__, "ru", TMPL_RU },
		{ __LINE__, "de-DE,de;q=0.9", TMPL_EN },
		{ __LINE__, "de, ru;q=0.1", TMPL_RU },
		{ __LINE__, "en-GB;q=0.1, uk-UA;q=0.2", TMPL_UK },
		{ __LINE__, "uk, ru", TMPL_UK },		/* tie: order */
		{ __LINE__, "ru;q=0.8, uk;q=0.8", TMPL_RU },
		{ __LINE__, "uk ; q=0.5 , ru;q=0.4", TMPL_UK },
		{ __LINE__, "ru,\tuk", TMPL_RU },
		{ __LINE__, "\t ru ", TMPL_RU },
		{ __LINE__, "uk-UA-x-lviv", TMPL_UK },
		{ __LINE__, "uk;q=1.000", TMPL_UK },
		{ __LINE__, "uk;q=0., ru;q=0.1", TMPL_RU },
		{ __LINE__, "uk;q=0, uk-UA;q=0.5", TMPL_UK }, /* best q */
		/* case */
		{ __LINE__, "UK", TMPL_UK },
		{ __LINE__, "Ru-RU", TMPL_RU },
		{ __LINE__, "uk;Q=0.5,ru;q=0.4", TMPL_UK },
		/* q=0: not acceptable */
		{ __LINE__, "ru;q=0", TMPL_EN },
		{ __LINE__, "ru;q=0.000", TMPL_EN },
		{ __LINE__, "ru;q=0, uk;q=0.001", TMPL_UK },
		{ __LINE__, "en;q=0, ru", TMPL_RU },
		{ __LINE__, "en;q=0,uk;q=0,ru;q=0", TMPL_EN },
		/* "*": any locale not named */
		{ __LINE__, "*", TMPL_EN },
		{ __LINE__, "en;q=0, *", TMPL_UK },
		{ __LINE__, "ru;q=0.5, *;q=0.9", TMPL_EN },
		{ __LINE__, "*;q=0", TMPL_EN },
		/* junk: skipped */
		{ __LINE__, "\xff\xfe,;;;", TMPL_EN },
		{ __LINE__, ",,,", TMPL_EN },
		{ __LINE__, "q=1", TMPL_EN },
		{ __LINE__, "=;q", TMPL_EN },
		{ __LINE__, "uk;q=2, ru;q=0.1", TMPL_RU },
		{ __LINE__, "uk;q=1.5", TMPL_EN },
		{ __LINE__, "uk;q=1.001", TMPL_EN },
		{ __LINE__, "uk;q=0.5000", TMPL_EN },
		{ __LINE__, "uk;q=", TMPL_EN },
		{ __LINE__, "uk;q=.5", TMPL_EN },
		{ __LINE__, "uk;q=-1", TMPL_EN },
		{ __LINE__, "uk;q = 0.5", TMPL_EN },
		{ __LINE__, "uk;x=1", TMPL_EN },
		{ __LINE__, "uk;q=0.5;q=1", TMPL_EN },
		{ __LINE__, "u k", TMPL_EN },
		{ __LINE__, "ukr", TMPL_EN },
		{ __LINE__, "ukrainian", TMPL_EN },
		{ __LINE__, "uk-", TMPL_EN },
		{ __LINE__, "uk--UA", TMPL_EN },
		{ __LINE__, "uk-verylongsub", TMPL_EN },
		{ __LINE__, "uk_UA", TMPL_EN },
		{ __LINE__, "uk\r\nX-Evil: 1", TMPL_EN },
		/* bounded work */
		{ __LINE__, long_tail, TMPL_UK },
		{ __LINE__, long_head, TMPL_EN },
		{ __LINE__, cut_q, TMPL_EN },
		{ __LINE__, fit_256, TMPL_RU },
		{ __LINE__, entries_32, TMPL_RU },
		{ __LINE__, entries_33, TMPL_EN },
	};
	size_t	i;

	make_headers();
	for (i = 0; i < nitems(t); i++)
		ok_at(t[i].line, tmpl_locale_accept(t[i].in) == t[i].want,
		    "tmpl_locale_accept case %zu: %s", i,
		    tmpl_locale_name(t[i].want));
}

static void
test_names(void)
{
	static const struct {
		int			 line;
		const char		*in;
		enum tmpl_locale	 want;
	} t[] = {
		{ __LINE__, "en", TMPL_EN },
		{ __LINE__, "uk", TMPL_UK },
		{ __LINE__, "ru", TMPL_RU },
		{ __LINE__, NULL, TMPL_EN },
		{ __LINE__, "", TMPL_EN },
		{ __LINE__, "UK", TMPL_EN },
		{ __LINE__, "uk ", TMPL_EN },
		{ __LINE__, "uk-UA", TMPL_EN },
		{ __LINE__, "de", TMPL_EN },
	};
	static const char *const vars[TV__MAX] = {
		"site_name", "user_name", "link", "expires_at", "changed_at",
		"login", "new_email", "old_email", "title", "body", "action",
		"token", "min_length"
	};
	enum tmpl_locale	 loc;
	enum tmpl_var		 var;
	const char		*name;
	size_t			 i;

	for (i = 0; i < nitems(t); i++)
		ok_at(t[i].line, tmpl_locale_parse(t[i].in) == t[i].want,
		    "tmpl_locale_parse case %zu", i);
	for (loc = 0; loc < TMPL_LOCALE__MAX; loc++) {
		name = tmpl_locale_name(loc);
		ok(strcmp(name, locales[loc]) == 0 &&
		    tmpl_locale_parse(name) == loc, "locale %s round trip",
		    locales[loc]);
	}
	ok(strcmp(tmpl_locale_name(TMPL_LOCALE__MAX), "en") == 0,
	    "locale out of range names en");
	for (var = 0; var < TV__MAX; var++) {
		name = tmpl_var_name(var);
		ok(name != NULL && strcmp(name, vars[var]) == 0,
		    "tmpl_var_name(%d) = %s", (int)var, vars[var]);
	}
	ok(tmpl_var_name(TV__MAX) == NULL, "tmpl_var_name(TV__MAX) NULL");
}

static void
test_link(void)
{
	static const struct {
		int		 line;
		const char	*base, *path, *token, *want;
	} t[] = {
		{ __LINE__, "https://a.example", "/reset", "a b/+?",
		  "https://a.example/reset?token=a%20b%2F%2B%3F" },
		{ __LINE__, "https://a.example", "/v", "AZaz09-._~",
		  "https://a.example/v?token=AZaz09-._~" },
		{ __LINE__, "http://h", "", "%&=#\"'<",
		  "http://h?token=%25%26%3D%23%22%27%3C" },
		{ __LINE__, "https://a.example", "/v", "\xd0\xaf\r\n",
		  "https://a.example/v?token=%D0%AF%0D%0A" },
		{ __LINE__, "https://a.example", "/v", "",
		  "https://a.example/v?token=" },
		{ __LINE__, NULL, "/v", "x", NULL },
		{ __LINE__, "https://a.example", NULL, "x", NULL },
		{ __LINE__, "https://a.example", "/v", NULL, NULL },
	};
	struct tmpl_vars	 v;
	size_t			 i;
	char			*link, *out;

	for (i = 0; i < nitems(t); i++) {
		link = tmpl_link(t[i].base, t[i].path, t[i].token);
		ok_at(t[i].line, t[i].want == NULL ? link == NULL :
		    link != NULL && strcmp(link, t[i].want) == 0,
		    "tmpl_link case %zu", i);
		free(link);
	}
	/* what tmpl_link makes, a template takes */
	sample(&v);
	link = tmpl_link("https://a.example", "/verify", "a b/+?\"<");
	v.v[TV_LINK] = link;
	ok(tmpl_mail("verify_email", TP_HTML, TMPL_RU, &v, &out) == USHER_OK &&
	    has(out, link), "a tmpl_link() link renders unchanged in HTML");
	free(out);
	free(link);
}

static void
test_unloaded(void)
{
	struct tmpl_vars	 v;
	char			*out;

	sample(&v);
	tmpl_free();
	ok(tmpl_page("verify_ok", TMPL_EN, &v, &out) == USHER_ERR_INTERNAL &&
	    out == NULL, "nothing loaded: USHER_ERR_INTERNAL");
	tmpl_free();
	ok(tmpl_load(TEST_TEMPLATES) == USHER_OK, "loads after tmpl_free");
}

int
main(void)
{
	test_load_real();
	test_render_all();
	test_escaping();
	test_refusals();
	test_lookup();
	test_too_large();
	make_scratch();
	test_scratch();
	test_scratch_include();
	test_scratch_subject();
	remove_scratch();
	test_accept();
	test_names();
	test_link();
	test_unloaded();
	tmpl_free();
	return done_testing();
}
