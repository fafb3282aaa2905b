/* cfg.c -- configuration file and USHER_* environment, checked for safety */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cfg.h"
#include "mime.h"
#include "valid.h"
#include "xmalloc.h"

extern char **environ;

struct cfg cfg;

#define CFG_FILE_MAX	(64 * 1024)

enum ckind { CK_STR, CK_UINT, CK_BOOL, CK_ALG, CK_LIST, CK_RATE, CK_LEVEL };

/* One configuration key: where it lives in struct cfg and its bounds. */
struct ckey {
	const char	*name;
	enum ckind	 kind;
	size_t		 off;
	int64_t		 min, max;	/* CK_UINT */
	size_t		 width;		/* CK_UINT: sizeof the member */
	int		 index;		/* CK_RATE: which rate */
	size_t		 countoff;	/* CK_LIST: offset of the count */
	size_t		 cap;		/* CK_LIST: entries */
};

#define O(m)	offsetof(struct cfg, m)
#define U(n, m, lo, hi)	{ n, CK_UINT, O(m), lo, hi, sizeof(((struct cfg *)0)->m), 0, 0, 0 }
#define S(n, m)		{ n, CK_STR, O(m), 0, 0, 0, 0, 0, 0 }
#define B(n, m)		{ n, CK_BOOL, O(m), 0, 0, 0, 0, 0, 0 }
#define R(n, i)		{ n, CK_RATE, 0, 0, 0, 0, i, 0, 0 }
#define L(n, m, c, cap)	{ n, CK_LIST, O(m), 0, 0, 0, 0, O(c), cap }

static const struct ckey keys[] = {
	S("database_url", database_url),
	S("issuer", issuer),
	S("audience", audience),
	S("public_url", public_url),
	{ "jwt_alg", CK_ALG, O(jwt_alg), 0, 0, 0, 0, 0, 0 },
	S("jwt_secret", jwt_secret),
	U("access_ttl", access_ttl, LIM_ACCESS_TTL_MIN, LIM_ACCESS_TTL_MAX),
	U("refresh_ttl", refresh_ttl, LIM_REFRESH_TTL_MIN, LIM_REFRESH_TTL_MAX),
	U("refresh_grace", refresh_grace, 0, LIM_REFRESH_GRACE_MAX),
	B("email_verification", email_verification),
	U("password_min_length", password_min, LIM_PASSWORD_MIN_FLOOR, 128),
	S("common_passwords", common_passwords),
	U("scrypt_n", scrypt_n, 2, 1 << LIM_SCRYPT_LOGN_MAX),
	U("scrypt_r", scrypt_r, 1, 32),
	U("scrypt_p", scrypt_p, 1, 16),
	B("allow_weak_scrypt", allow_weak_scrypt),
	U("body_limit", body_limit, 1024, LIM_BODY_MAX),
	L("trusted_proxies", trusted_proxies, ntrusted_proxies,
	    LIM_TRUSTED_PROXIES),
	L("cors_origins", cors_origins, ncors_origins, LIM_CORS_ORIGINS),
	R("rate_login_ip", RATE_LOGIN_IP),
	R("rate_login_account", RATE_LOGIN_ACCOUNT),
	R("rate_register_ip", RATE_REGISTER_IP),
	R("rate_guest_ip", RATE_GUEST_IP),
	R("rate_refresh_ip", RATE_REFRESH_IP),
	R("rate_refresh_session", RATE_REFRESH_SESSION),
	R("rate_mail_ip", RATE_MAIL_IP),
	U("login_backoff_after", backoff_after, 1, 100),
	U("login_backoff_max", backoff_max, 1, 900),
	{ "log_level", CK_LEVEL, O(log_level), 0, 0, 0, 0, 0, 0 },
	S("docs_dir", docs_dir),
	B("mail_enabled", mail_enabled),
	S("mail_transport", mail_transport),
	S("mail_spool", mail_spool),
	S("mail_from", mail_from),
	S("mail_reply_to", mail_reply_to),
	S("smtp_url", smtp_url),
	S("smtp_user", smtp_user),
	S("smtp_password", smtp_password),
	S("smtp_ca_file", smtp_ca_file),
	S("smtp_helo", smtp_helo),
	U("smtp_timeout", smtp_timeout, 1, 600),
	U("mail_retry_base", mail_retry_base, 1, 86400),
	U("mail_max_attempts", mail_max_attempts, 1, 100),
	U("mail_poll_interval", mail_poll, 1, 3600),
	U("mail_batch", mail_batch, 1, LIM_MAIL_BATCH),
	U("mail_hourly_cap", mail_hourly_cap, 0, 1000),
	S("site_name", site_name),
	S("frontend_url", frontend_url),
	S("templates_dir", templates_dir),
	U("verify_ttl", verify_ttl, LIM_LINK_TTL_MIN, LIM_LINK_TTL_MAX),
	U("reset_ttl", reset_ttl, LIM_LINK_TTL_MIN, LIM_RESET_TTL_MAX),
	U("email_change_ttl", email_change_ttl, LIM_LINK_TTL_MIN,
	    LIM_LINK_TTL_MAX),
};

static void
setstr(char **dst, const char *val)
{
	free(*dst);
	*dst = xstrdup(val);
}

void
cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	setstr(&c->database_url, "dbname=usher");
	setstr(&c->issuer, "usher");
	setstr(&c->audience, "usher");
	setstr(&c->public_url, "http://127.0.0.1:8080");
	c->jwt_alg = CFG_ALG_ES256;
	c->access_ttl = 900;
	c->refresh_ttl = 30 * 86400;
	c->refresh_grace = 10;
	c->email_verification = 1;
	c->password_min = LIM_PASSWORD_MIN;
	setstr(&c->common_passwords, PKGDATADIR "/common-passwords.txt");
	c->scrypt_n = 1 << 15;
	c->scrypt_r = 8;
	c->scrypt_p = 3;
	c->body_limit = LIM_BODY_DEFAULT;
	c->rate[RATE_LOGIN_IP] = (struct rate){ 30, 60 };
	c->rate[RATE_LOGIN_ACCOUNT] = (struct rate){ 10, 60 };
	c->rate[RATE_REGISTER_IP] = (struct rate){ 10, 3600 };
	c->rate[RATE_GUEST_IP] = (struct rate){ 10, 3600 };
	c->rate[RATE_REFRESH_IP] = (struct rate){ 120, 60 };
	c->rate[RATE_REFRESH_SESSION] = (struct rate){ 30, 60 };
	c->backoff_after = 5;
	c->backoff_max = 900;
	c->log_level = LOG_LVL_INFO;
	setstr(&c->docs_dir, PKGDATADIR);
	c->rate[RATE_MAIL_IP] = (struct rate){ 20, 3600 };
	c->mail_enabled = 1;
	setstr(&c->mail_transport, "file");
	setstr(&c->mail_spool, LOCALSTATEDIR "/spool/usher-mail");
	setstr(&c->mail_from, "usher <no-reply@localhost>");
	c->smtp_timeout = 30;
	c->mail_retry_base = 60;
	c->mail_max_attempts = 10;
	c->mail_poll = 30;
	c->mail_batch = 32;
	c->mail_hourly_cap = 5;
	setstr(&c->site_name, "usher");
	setstr(&c->templates_dir, PKGDATADIR "/templates");
	c->verify_ttl = 24 * 3600;
	c->reset_ttl = 30 * 60;
	c->email_change_ttl = 24 * 3600;
}

static enum usher_err
set_uint(struct cfg *c, const struct ckey *k, const char *val)
{
	int64_t	 v;
	char	*p = (char *)c + k->off;

	if (num_parse(val, k->min, k->max, &v) != USHER_OK)
		return USHER_ERR_CONFIG;
	if (k->width == sizeof(uint64_t))
		*(uint64_t *)(void *)p = (uint64_t)v;
	else if (k->width == sizeof(unsigned))
		*(unsigned *)(void *)p = (unsigned)v;
	else
		return USHER_ERR_INTERNAL;
	return USHER_OK;
}

static enum usher_err
set_bool(int *dst, const char *val)
{
	if (strcmp(val, "yes") == 0 || strcmp(val, "true") == 0 ||
	    strcmp(val, "1") == 0 || strcmp(val, "required") == 0)
		*dst = 1;
	else if (strcmp(val, "no") == 0 || strcmp(val, "false") == 0 ||
	    strcmp(val, "0") == 0 || strcmp(val, "optional") == 0)
		*dst = 0;
	else
		return USHER_ERR_CONFIG;
	return USHER_OK;
}

/* "count/seconds", e.g. "10/60". */
static enum usher_err
set_rate(struct rate *r, const char *val)
{
	const char	*slash;
	char		 num[16];
	int64_t		 count, window;

	if ((slash = strchr(val, '/')) == NULL ||
	    (size_t)(slash - val) >= sizeof(num))
		return USHER_ERR_CONFIG;
	memcpy(num, val, (size_t)(slash - val));
	num[slash - val] = '\0';
	if (num_parse(num, 0, 1000000, &count) != USHER_OK ||
	    num_parse(slash + 1, 1, 86400, &window) != USHER_OK)
		return USHER_ERR_CONFIG;
	r->count = (unsigned)count;
	r->window = (unsigned)window;
	return USHER_OK;
}

static enum usher_err
set_list(struct cfg *c, const struct ckey *k, const char *val)
{
	char	**list = (char **)(void *)((char *)c + k->off);
	size_t	 *n = (size_t *)(void *)((char *)c + k->countoff);
	const char *p = val, *e;
	size_t	 i;

	for (i = 0; i < *n; i++) {
		free(list[i]);
		list[i] = NULL;
	}
	*n = 0;
	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ',' && *e != ' '; e++)
			continue;
		if (*n == k->cap)
			return USHER_ERR_CONFIG;
		list[(*n)++] = xstrndup(p, (size_t)(e - p));
		p = e;
	}
	return USHER_OK;
}

static enum usher_err
set_key(struct cfg *c, const struct ckey *k, const char *val)
{
	char	*p = (char *)c + k->off;

	switch (k->kind) {
	case CK_STR:
		setstr((char **)(void *)p, val);
		return USHER_OK;
	case CK_UINT:
		return set_uint(c, k, val);
	case CK_BOOL:
		return set_bool((int *)(void *)p, val);
	case CK_RATE:
		return set_rate(&c->rate[k->index], val);
	case CK_LIST:
		return set_list(c, k, val);
	case CK_ALG:
		if (strcmp(val, "ES256") == 0)
			c->jwt_alg = CFG_ALG_ES256;
		else if (strcmp(val, "RS256") == 0)
			c->jwt_alg = CFG_ALG_RS256;
		else if (strcmp(val, "HS256") == 0)
			c->jwt_alg = CFG_ALG_HS256;
		else
			return USHER_ERR_CONFIG;
		return USHER_OK;
	case CK_LEVEL:
		if (strcmp(val, "debug") == 0)
			c->log_level = LOG_LVL_DEBUG;
		else if (strcmp(val, "info") == 0)
			c->log_level = LOG_LVL_INFO;
		else if (strcmp(val, "warn") == 0)
			c->log_level = LOG_LVL_WARN;
		else if (strcmp(val, "error") == 0)
			c->log_level = LOG_LVL_ERROR;
		else
			return USHER_ERR_CONFIG;
		return USHER_OK;
	}
	return USHER_ERR_INTERNAL;
}

enum usher_err
cfg_set(struct cfg *c, const char *key, const char *val, char *err,
    size_t errsz)
{
	size_t	i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].name, key) != 0)
			continue;
		if (set_key(c, &keys[i], val) == USHER_OK)
			return USHER_OK;
		/* never echo the value: it may be a secret */
		snprintf(err, errsz, "invalid value for %s", key);
		return USHER_ERR_CONFIG;
	}
	snprintf(err, errsz, "unknown configuration key %.64s", key);
	return USHER_ERR_CONFIG;
}

static char *
trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

enum usher_err
cfg_parse(struct cfg *c, const char *text, char *err, size_t errsz)
{
	char		*copy, *line, *next, *eq, *key, *val;
	size_t		 lineno = 0;
	enum usher_err	 rc = USHER_OK;
	char		 sub[200];

	copy = xstrdup(text);
	for (line = copy; line != NULL && rc == USHER_OK; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			snprintf(err, errsz, "line %zu: expected key = value",
			    lineno);
			rc = USHER_ERR_CONFIG;
			break;
		}
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		if ((rc = cfg_set(c, key, val, sub, sizeof(sub))) != USHER_OK)
			snprintf(err, errsz, "line %zu: %s", lineno, sub);
	}
	explicit_bzero(copy, strlen(text));
	free(copy);
	return rc;
}

static enum usher_err
load_file(struct cfg *c, const char *path, int must, char *err, size_t errsz)
{
	char		*buf;
	size_t		 n;
	enum usher_err	 rc;

	rc = file_read(path, CFG_FILE_MAX, &buf, &n);
	if (rc == USHER_ERR_NOT_FOUND && !must)
		return USHER_OK;
	if (rc == USHER_ERR_NOT_FOUND || rc == USHER_ERR_CONFIG) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return USHER_ERR_CONFIG;
	}
	if (rc != USHER_OK || memchr(buf, '\0', n) != NULL) {
		snprintf(err, errsz, "%s: unreadable, too large or binary", path);
		free(buf);
		return USHER_ERR_CONFIG;
	}
	rc = cfg_parse(c, buf, err, errsz);
	explicit_bzero(buf, n);
	free(buf);
	return rc;
}

/* USHER_FOO_BAR=v sets foo_bar; USHER_CONFIG names the file. */
static enum usher_err
load_env(struct cfg *c, char *const *envp, char *err, size_t errsz)
{
	char		 key[64];
	const char	*eq, *e;
	size_t		 i, len;

	for (; *envp != NULL; envp++) {
		e = *envp;
		if (strncmp(e, "USHER_", 6) != 0 || strncmp(e, "USHER_CONFIG=", 13) == 0)
			continue;
		if ((eq = strchr(e, '=')) == NULL)
			continue;
		len = (size_t)(eq - e) - 6;
		if (len == 0)
			continue;
		if (len >= sizeof(key)) {
			snprintf(err, errsz, "unknown configuration variable "
			    "%.40s...", e);
			return USHER_ERR_CONFIG;
		}
		for (i = 0; i < len; i++)
			key[i] = (char)tolower((unsigned char)e[6 + i]);
		key[len] = '\0';
		/* variables of other tools (tests, harness) are not ours */
		if (strncmp(key, "e2e_", 4) == 0)
			continue;
		if (cfg_set(c, key, eq + 1, err, errsz) != USHER_OK)
			return USHER_ERR_CONFIG;
	}
	return USHER_OK;
}

static int
is_http_url(const char *s)
{
	size_t	len;

	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
		return 0;
	len = strlen(s);
	/* links append "/v1/..." */
	return len > 8 && s[len - 1] != '/' && strpbrk(s, " \"<>?#") == NULL;
}

/*
 * The mail settings: a transport we have, a usable sender (its address
 * and domain kept in c, parsed once).
 */
static enum usher_err
check_mail(struct cfg *c, char *err, size_t errsz)
{
	char	addr[LIM_EMAIL + 1];

	if (strcmp(c->mail_transport, "file") != 0 &&
	    strcmp(c->mail_transport, "smtp") != 0) {
		snprintf(err, errsz, "mail_transport must be file or smtp");
		return USHER_ERR_CONFIG;
	}
	if (strcmp(c->mail_transport, "smtp") == 0 && (c->smtp_url == NULL ||
	    (strncmp(c->smtp_url, "smtp://", 7) != 0 &&
	    strncmp(c->smtp_url, "smtps://", 8) != 0))) {
		snprintf(err, errsz, "mail_transport smtp needs an smtp_url "
		    "(smtp:// with STARTTLS, or smtps://)");
		return USHER_ERR_CONFIG;
	}
	if (!mime_sender_addr(c->mail_from, c->mail_from_addr,
	    sizeof(c->mail_from_addr)) ||
	    (c->mail_reply_to != NULL &&
	    !mime_sender_addr(c->mail_reply_to, addr, sizeof(addr)))) {
		snprintf(err, errsz, "mail_from and mail_reply_to must be "
		    "\"Name <address>\" or \"address\"");
		return USHER_ERR_CONFIG;
	}
	snprintf(c->mail_domain, sizeof(c->mail_domain), "%s",
	    strrchr(c->mail_from_addr, '@') + 1);
	if (c->frontend_url != NULL && !is_http_url(c->frontend_url)) {
		snprintf(err, errsz, "frontend_url must be an http(s) URL "
		    "without a trailing slash, query or fragment");
		return USHER_ERR_CONFIG;
	}
	if (*c->site_name == '\0' || strlen(c->site_name) > 100) {
		snprintf(err, errsz, "site_name must have 1 to 100 bytes");
		return USHER_ERR_CONFIG;
	}
	return USHER_OK;
}

enum usher_err
cfg_check(struct cfg *c, char *err, size_t errsz)
{
	unsigned long long	work;

	work = (unsigned long long)c->scrypt_n * c->scrypt_r * c->scrypt_p;
	if (!c->allow_weak_scrypt && (c->scrypt_r < LIM_SCRYPT_R_MIN ||
	    work < LIM_SCRYPT_WORK_MIN)) {
		snprintf(err, errsz, "scrypt parameters weaker than "
		    "N=2^15,r=8,p=3 (set allow_weak_scrypt only for tests)");
		return USHER_ERR_CONFIG;
	}
	if ((c->scrypt_n & (c->scrypt_n - 1)) != 0) {
		snprintf(err, errsz, "scrypt_n must be a power of two");
		return USHER_ERR_CONFIG;
	}
	if (c->jwt_alg == CFG_ALG_HS256 && (c->jwt_secret == NULL ||
	    strlen(c->jwt_secret) < LIM_HS256_SECRET_MIN)) {
		snprintf(err, errsz, "jwt_alg HS256 needs a jwt_secret of at "
		    "least %d bytes", LIM_HS256_SECRET_MIN);
		return USHER_ERR_CONFIG;
	}
	if (c->refresh_ttl <= c->access_ttl) {
		snprintf(err, errsz, "refresh_ttl must exceed access_ttl");
		return USHER_ERR_CONFIG;
	}
	if (*c->issuer == '\0' || *c->audience == '\0') {
		snprintf(err, errsz, "issuer and audience may not be empty");
		return USHER_ERR_CONFIG;
	}
	if (!is_http_url(c->public_url)) {
		snprintf(err, errsz, "public_url must be an http(s) URL "
		    "without a trailing slash, query or fragment");
		return USHER_ERR_CONFIG;
	}
	return check_mail(c, err, errsz);
}

enum usher_err
cfg_load(struct cfg *c, const char *path, char *const *envp, char *err,
    size_t errsz)
{
	const char	*p = path;
	enum usher_err	 rc;
	char *const	*e;
	int		 must = 1;

	if (envp == NULL)
		envp = environ;
	cfg_defaults(c);
	if (p == NULL)
		for (e = envp; *e != NULL; e++)
			if (strncmp(*e, "USHER_CONFIG=", 13) == 0)
				p = *e + 13;
	if (p == NULL || *p == '\0') {
		p = SYSCONFDIR "/usher/usher.conf";
		must = 0;
	}
	if ((rc = load_file(c, p, must, err, errsz)) != USHER_OK)
		return rc;
	if ((rc = load_env(c, envp, err, errsz)) != USHER_OK)
		return rc;
	return cfg_check(c, err, errsz);
}

void
cfg_free(struct cfg *c)
{
	size_t	i;

	free(c->database_url);
	free(c->issuer);
	free(c->audience);
	free(c->public_url);
	if (c->jwt_secret != NULL) {
		explicit_bzero(c->jwt_secret, strlen(c->jwt_secret));
		free(c->jwt_secret);
	}
	free(c->common_passwords);
	free(c->docs_dir);
	free(c->mail_transport);
	free(c->mail_spool);
	free(c->mail_from);
	free(c->mail_reply_to);
	free(c->smtp_url);
	free(c->smtp_user);
	if (c->smtp_password != NULL) {
		explicit_bzero(c->smtp_password, strlen(c->smtp_password));
		free(c->smtp_password);
	}
	free(c->smtp_ca_file);
	free(c->smtp_helo);
	free(c->site_name);
	free(c->frontend_url);
	free(c->templates_dir);
	for (i = 0; i < c->ntrusted_proxies; i++)
		free(c->trusted_proxies[i]);
	for (i = 0; i < c->ncors_origins; i++)
		free(c->cors_origins[i]);
	memset(c, 0, sizeof(*c));
}
