/* t_cfg.c -- unit tests of lib/cfg.c: defaults, keys, bounds, checks, load */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "limits.h"
#include "tap.h"

#define ERRSZ	256
#define SECRET32 "0123456789abcdef0123456789abcdef"	/* 32 bytes */
#define SECRET31 "0123456789abcdef0123456789abcde"	/* 31 bytes */

/* Temporary files written by write_tmp(), removed at the end. */
static char	tmp_paths[8][64];
static size_t	ntmp;

static const char *
write_tmp(const char *text, size_t len)
{
	char	*path;
	FILE	*f;
	int	 fd;

	if (ntmp == nitems(tmp_paths))
		bail_out("write_tmp: too many files");
	path = tmp_paths[ntmp++];
	snprintf(path, sizeof(tmp_paths[0]), "/tmp/t_cfg.XXXXXX");
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		bail_out("mkstemp");
	if (fwrite(text, 1, len, f) != len || fclose(f) != 0)
		bail_out("write_tmp: write");
	return path;
}

static void
remove_tmp(void)
{
	size_t	i;

	for (i = 0; i < ntmp; i++)
		unlink(tmp_paths[i]);
}

static int
has(const char *err, const char *s)
{
	return strstr(err, s) != NULL;
}

static void
test_defaults(void)
{
	struct cfg	c;
	char		err[ERRSZ] = "";

	cfg_defaults(&c);
	ok(c.scrypt_n == 32768 && c.scrypt_r == 8 && c.scrypt_p == 3,
	    "default scrypt N=32768 r=8 p=3");
	ok(c.allow_weak_scrypt == 0, "weak scrypt not allowed by default");
	ok(c.access_ttl == 900, "default access_ttl 900");
	ok(c.refresh_ttl == 30 * 86400, "default refresh_ttl 30 days");
	ok(c.refresh_grace == 10, "default refresh_grace 10");
	ok(c.email_verification == 1, "email_verification on by default");
	ok(c.body_limit == 65536, "default body_limit 65536");
	ok(c.password_min == LIM_PASSWORD_MIN, "default password minimum");
	ok(c.jwt_alg == CFG_ALG_ES256 && c.jwt_secret == NULL,
	    "default ES256, no secret");
	ok(c.ntrusted_proxies == 0 && c.ncors_origins == 0,
	    "no trusted proxies or CORS origins by default");
	ok(c.rate[RATE_LOGIN_ACCOUNT].count > 0 &&
	    c.rate[RATE_LOGIN_ACCOUNT].window > 0, "login rate limit on");
	ok(c.database_url != NULL && c.issuer != NULL && c.audience != NULL &&
	    c.public_url != NULL && c.common_passwords != NULL &&
	    c.docs_dir != NULL, "default strings set");
	ok(cfg_check(&c, err, sizeof(err)) == USHER_OK,
	    "defaults pass cfg_check");
	cfg_free(&c);
	ok(c.issuer == NULL && c.jwt_secret == NULL, "cfg_free clears");
	cfg_free(&c);
	ok(1, "cfg_free twice is harmless");
}

/* cfg_set: which values each key takes. */
static void
test_set(void)
{
	static char	 longkey[300];
	static const struct {
		int		 line;
		const char	*key;
		const char	*val;
		int		 want;
	} t[] = {
		{ __LINE__, "access_ttl", "59", 0 },
		{ __LINE__, "access_ttl", "60", 1 },
		{ __LINE__, "access_ttl", "3600", 1 },
		{ __LINE__, "access_ttl", "3601", 0 },
		{ __LINE__, "access_ttl", "abc", 0 },
		{ __LINE__, "access_ttl", "", 0 },
		{ __LINE__, "access_ttl", "-60", 0 },
		{ __LINE__, "access_ttl", "+120", 0 },
		{ __LINE__, "access_ttl", "0120", 0 },
		{ __LINE__, "access_ttl", "120s", 0 },
		{ __LINE__, "access_ttl", "4294967416", 0 },	/* 2^32 + 120 */
		{ __LINE__, "refresh_ttl", "3599", 0 },
		{ __LINE__, "refresh_ttl", "3600", 1 },
		{ __LINE__, "refresh_ttl", "7776000", 1 },
		{ __LINE__, "refresh_ttl", "7776001", 0 },
		{ __LINE__, "refresh_grace", "0", 1 },
		{ __LINE__, "refresh_grace", "60", 1 },
		{ __LINE__, "refresh_grace", "61", 0 },
		{ __LINE__, "password_min_length", "7", 0 },
		{ __LINE__, "password_min_length", "8", 1 },
		{ __LINE__, "password_min_length", "128", 1 },
		{ __LINE__, "password_min_length", "129", 0 },
		{ __LINE__, "scrypt_n", "1", 0 },
		{ __LINE__, "scrypt_n", "1048576", 1 },
		{ __LINE__, "scrypt_n", "1048577", 0 },
		{ __LINE__, "scrypt_n", "2097152", 0 },
		{ __LINE__, "scrypt_r", "0", 0 },
		{ __LINE__, "scrypt_r", "32", 1 },
		{ __LINE__, "scrypt_r", "33", 0 },
		{ __LINE__, "scrypt_p", "0", 0 },
		{ __LINE__, "scrypt_p", "16", 1 },
		{ __LINE__, "scrypt_p", "17", 0 },
		{ __LINE__, "body_limit", "1023", 0 },
		{ __LINE__, "body_limit", "1024", 1 },
		{ __LINE__, "body_limit", "1048576", 1 },
		{ __LINE__, "body_limit", "1048577", 0 },
		{ __LINE__, "login_backoff_after", "0", 0 },
		{ __LINE__, "login_backoff_after", "100", 1 },
		{ __LINE__, "login_backoff_max", "900", 1 },
		{ __LINE__, "login_backoff_max", "901", 0 },
		/* booleans */
		{ __LINE__, "email_verification", "yes", 1 },
		{ __LINE__, "email_verification", "no", 1 },
		{ __LINE__, "email_verification", "true", 1 },
		{ __LINE__, "email_verification", "false", 1 },
		{ __LINE__, "email_verification", "1", 1 },
		{ __LINE__, "email_verification", "0", 1 },
		{ __LINE__, "email_verification", "required", 1 },
		{ __LINE__, "email_verification", "optional", 1 },
		{ __LINE__, "email_verification", "maybe", 0 },
		{ __LINE__, "email_verification", "", 0 },
		{ __LINE__, "allow_weak_scrypt", "2", 0 },
		/* enumerations */
		{ __LINE__, "jwt_alg", "ES256", 1 },
		{ __LINE__, "jwt_alg", "RS256", 1 },
		{ __LINE__, "jwt_alg", "HS256", 1 },
		{ __LINE__, "jwt_alg", "none", 0 },
		{ __LINE__, "jwt_alg", "hs256", 0 },
		{ __LINE__, "jwt_alg", "HS512", 0 },
		{ __LINE__, "log_level", "debug", 1 },
		{ __LINE__, "log_level", "error", 1 },
		{ __LINE__, "log_level", "verbose", 0 },
		/* rates: count/seconds */
		{ __LINE__, "rate_login_ip", "10/60", 1 },
		{ __LINE__, "rate_login_ip", "0/60", 1 },
		{ __LINE__, "rate_login_ip", "1000000/86400", 1 },
		{ __LINE__, "rate_login_ip", "10", 0 },
		{ __LINE__, "rate_login_ip", "x/60", 0 },
		{ __LINE__, "rate_login_ip", "10/x", 0 },
		{ __LINE__, "rate_login_ip", "10/0", 0 },
		{ __LINE__, "rate_login_ip", "10/86401", 0 },
		{ __LINE__, "rate_login_ip", "1000001/60", 0 },
		{ __LINE__, "rate_login_ip", "/60", 0 },
		{ __LINE__, "rate_login_ip", "10/", 0 },
		{ __LINE__, "rate_login_ip", "-1/60", 0 },
		{ __LINE__, "rate_login_ip", "10/60/5", 0 },
		{ __LINE__, "rate_login_ip", "10 / 60", 0 },
		{ __LINE__, "rate_login_ip", "00000000000000010/60", 0 },
		{ __LINE__, "rate_refresh_session", "5/1", 1 },
		/* strings take anything */
		{ __LINE__, "jwt_secret", "", 1 },
		{ __LINE__, "jwt_secret", "a secret with spaces = and #", 1 },
		{ __LINE__, "database_url", "host=db dbname=usher", 1 },
		/* unknown keys, and the case matters */
		{ __LINE__, "foo", "1", 0 },
		{ __LINE__, "", "1", 0 },
		{ __LINE__, "ACCESS_TTL", "120", 0 },
		{ __LINE__, "access_ttl ", "120", 0 },
		{ __LINE__, "config", "/etc/usher.conf", 0 },
		{ __LINE__, longkey, "1", 0 },
	};
	struct cfg	c;
	char		err[ERRSZ];
	enum usher_err	rc;
	size_t		i;
	int		good;

	memset(longkey, 'k', sizeof(longkey) - 1);
	for (i = 0; i < nitems(t); i++) {
		cfg_defaults(&c);
		err[0] = '\0';
		rc = cfg_set(&c, t[i].key, t[i].val, err, sizeof(err));
		good = t[i].want ? rc == USHER_OK :
		    rc == USHER_ERR_CONFIG && err[0] != '\0' &&
		    strlen(err) < 120;
		/* the message names the key, never the value */
		if (!t[i].want && t[i].key[0] != '\0' && t[i].key != longkey)
			good = good && has(err, t[i].key);
		if (!t[i].want && t[i].val[0] != '\0')
			good = good && !has(err, t[i].val);
		if (!ok_at(t[i].line, good, "cfg_set %.20s = \"%s\": %s",
		    t[i].key, t[i].val, t[i].want ? "taken" : "refused"))
			diag("rc %d, err \"%s\"", rc, err);
		cfg_free(&c);
	}
}

/* What cfg_set stores. */
static void
test_set_values(void)
{
	struct cfg	c;
	char		err[ERRSZ];

	cfg_defaults(&c);
	ok(cfg_set(&c, "access_ttl", "120", err, sizeof(err)) == USHER_OK &&
	    c.access_ttl == 120, "access_ttl 120 stored");
	ok(cfg_set(&c, "access_ttl", "59", err, sizeof(err)) != USHER_OK &&
	    c.access_ttl == 120, "refused value leaves the old one");
	ok(cfg_set(&c, "scrypt_n", "1048576", err, sizeof(err)) == USHER_OK &&
	    c.scrypt_n == 1048576, "scrypt_n 2^20 stored");
	ok(cfg_set(&c, "body_limit", "1048576", err, sizeof(err)) ==
	    USHER_OK && c.body_limit == 1048576, "body_limit stored");
	ok(cfg_set(&c, "email_verification", "optional", err, sizeof(err)) ==
	    USHER_OK && c.email_verification == 0, "optional is off");
	ok(cfg_set(&c, "email_verification", "required", err, sizeof(err)) ==
	    USHER_OK && c.email_verification == 1, "required is on");
	ok(cfg_set(&c, "jwt_alg", "HS256", err, sizeof(err)) == USHER_OK &&
	    c.jwt_alg == CFG_ALG_HS256, "jwt_alg HS256 stored");
	ok(cfg_set(&c, "log_level", "warn", err, sizeof(err)) == USHER_OK &&
	    c.log_level == LOG_LVL_WARN, "log_level warn stored");
	ok(cfg_set(&c, "rate_login_ip", "10/60", err, sizeof(err)) ==
	    USHER_OK && c.rate[RATE_LOGIN_IP].count == 10 &&
	    c.rate[RATE_LOGIN_IP].window == 60, "rate 10/60 parsed");
	ok(cfg_set(&c, "rate_guest_ip", "0/3600", err, sizeof(err)) ==
	    USHER_OK && c.rate[RATE_GUEST_IP].count == 0 &&
	    c.rate[RATE_GUEST_IP].window == 3600, "rate 0/3600 parsed");
	ok(cfg_set(&c, "rate_login_ip", "x/60", err, sizeof(err)) !=
	    USHER_OK && c.rate[RATE_LOGIN_IP].count == 10 &&
	    c.rate[RATE_LOGIN_IP].window == 60, "refused rate keeps the old");
	ok(cfg_set(&c, "jwt_secret", "first", err, sizeof(err)) == USHER_OK &&
	    cfg_set(&c, "jwt_secret", SECRET32, err, sizeof(err)) ==
	    USHER_OK && strcmp(c.jwt_secret, SECRET32) == 0,
	    "a string set twice keeps the last (no leak)");

	/* a short error buffer is cut, still terminated */
	memset(err, 'x', sizeof(err));
	ok(cfg_set(&c, "foo", "1", err, 8) == USHER_ERR_CONFIG &&
	    strlen(err) == 7 && err[8] == 'x', "error cut to its buffer");
	cfg_free(&c);
}

static void
test_lists(void)
{
	static const struct {
		int		 line;
		const char	*val;
		int		 want;
		size_t		 n;
		const char	*first, *last;
	} t[] = {
		{ __LINE__, "127.0.0.1, ::1", 1, 2, "127.0.0.1", "::1" },
		{ __LINE__, "127.0.0.1,::1", 1, 2, "127.0.0.1", "::1" },
		{ __LINE__, "127.0.0.1 ::1", 1, 2, "127.0.0.1", "::1" },
		{ __LINE__, " ,10.0.0.1,, ,10.0.0.2 , ", 1, 2, "10.0.0.1",
		  "10.0.0.2" },
		{ __LINE__, "10.0.0.0/8", 1, 1, "10.0.0.0/8", "10.0.0.0/8" },
		{ __LINE__, "", 1, 0, NULL, NULL },
		{ __LINE__, " , ", 1, 0, NULL, NULL },
		{ __LINE__, "a b c d e f g h i j k l m n o p", 1, 16, "a",
		  "p" },
		{ __LINE__, "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p", 1, 16, "a",
		  "p" },
		{ __LINE__, "a b c d e f g h i j k l m n o p q", 0, 0, NULL,
		  NULL },
		{ __LINE__, "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t", 0, 0,
		  NULL, NULL },
	};
	static const char *const keys[] = { "trusted_proxies", "cors_origins" };
	struct cfg	 c;
	char		 err[ERRSZ];
	char		**list;
	size_t		*n, i, k;
	int		 good;

	for (k = 0; k < nitems(keys); k++)
		for (i = 0; i < nitems(t); i++) {
			cfg_defaults(&c);
			list = k == 0 ? c.trusted_proxies : c.cors_origins;
			n = k == 0 ? &c.ntrusted_proxies : &c.ncors_origins;
			good = cfg_set(&c, keys[k], t[i].val, err,
			    sizeof(err)) == (t[i].want ? USHER_OK :
			    USHER_ERR_CONFIG);
			if (good && t[i].want)
				good = *n == t[i].n && (t[i].n == 0 ||
				    (strcmp(list[0], t[i].first) == 0 &&
				    strcmp(list[*n - 1], t[i].last) == 0));
			ok_at(t[i].line, good, "%s = \"%s\": %s", keys[k],
			    t[i].val, t[i].want ? "taken" : "refused");
			cfg_free(&c);
		}

	/* Setting a list again replaces it; LeakSanitizer sees the rest. */
	cfg_defaults(&c);
	ok(cfg_set(&c, "trusted_proxies", "a b c", err, sizeof(err)) ==
	    USHER_OK && cfg_set(&c, "trusted_proxies", "d", err, sizeof(err))
	    == USHER_OK && c.ntrusted_proxies == 1 &&
	    strcmp(c.trusted_proxies[0], "d") == 0 &&
	    c.trusted_proxies[1] == NULL, "a list set again is replaced");
	ok(cfg_set(&c, "trusted_proxies", "", err, sizeof(err)) == USHER_OK &&
	    c.ntrusted_proxies == 0, "an empty value empties the list");
	ok(LIM_TRUSTED_PROXIES == 16 && LIM_CORS_ORIGINS == 16,
	    "the tables above assume 16 entries");
	cfg_free(&c);
}

static void
test_parse(void)
{
	static const char	 text[] =
	    "# usher.conf for the tests\r\n"
	    "\r\n"
	    "   \r\n"
	    "\t# an indented comment = not a key\n"
	    "access_ttl=120\r\n"
	    "  refresh_grace   =   5  \r\n"
	    "\temail_verification\t=\tno\t\r\n"
	    "issuer = https://issuer.example\n"
	    "database_url = host=db dbname=usher\r\n"
	    "jwt_secret = two words\n"
	    "rate_login_account = 3/600\r\n"
	    "trusted_proxies = 127.0.0.1, ::1\r\n"
	    "audience=last-line-no-newline";
	struct cfg	 c;
	char		 err[ERRSZ] = "";

	cfg_defaults(&c);
	ok(cfg_parse(&c, text, err, sizeof(err)) == USHER_OK,
	    "comments, blank lines, spaces, tabs, CRLF: parsed");
	if (err[0] != '\0')
		diag("err \"%s\"", err);
	ok(c.access_ttl == 120, "access_ttl=120");
	ok(c.refresh_grace == 5, "spaces around '=' trimmed");
	ok(c.email_verification == 0, "tabs trimmed");
	ok(strcmp(c.issuer, "https://issuer.example") == 0,
	    "CR not in the value");
	ok(strcmp(c.database_url, "host=db dbname=usher") == 0,
	    "a value may hold '=' and spaces");
	ok(c.jwt_secret != NULL && strcmp(c.jwt_secret, "two words") == 0,
	    "inner spaces kept");
	ok(c.rate[RATE_LOGIN_ACCOUNT].count == 3 &&
	    c.rate[RATE_LOGIN_ACCOUNT].window == 600, "rate from a file");
	ok(c.ntrusted_proxies == 2 &&
	    strcmp(c.trusted_proxies[1], "::1") == 0, "list from a file");
	ok(strcmp(c.audience, "last-line-no-newline") == 0,
	    "last line without a newline");
	ok(cfg_check(&c, err, sizeof(err)) == USHER_OK, "and it checks");
	cfg_free(&c);

	cfg_defaults(&c);
	ok(cfg_parse(&c, "", err, sizeof(err)) == USHER_OK &&
	    c.access_ttl == 900, "empty text: defaults kept");
	cfg_free(&c);
}

static void
test_parse_errors(void)
{
	static const struct {
		int		 line;
		const char	*text;
		const char	*want;		/* in the message */
		const char	*never;		/* not in the message */
	} t[] = {
		{ __LINE__, "foo = 1\n", "foo", NULL },
		{ __LINE__, "# ok\n\nfoo_bar = 1\n", "line 3", NULL },
		{ __LINE__, "# ok\n\nfoo_bar = 1\n", "foo_bar", NULL },
		{ __LINE__, "access_ttl = abc\n", "access_ttl", "abc" },
		{ __LINE__, "access_ttl = 59\n", "access_ttl", NULL },
		{ __LINE__, "access_ttl = 3601\n", "access_ttl", "3601" },
		{ __LINE__, "access_ttl = 120 # two minutes\n", "access_ttl",
		  "minutes" },
		{ __LINE__, "scrypt_n = hunter2-Secret!\n", "scrypt_n",
		  "hunter2" },
		{ __LINE__, "jwt_alg = s3cr3t-value\n", "jwt_alg", "s3cr3t" },
		{ __LINE__, "rate_login_ip = 10\n", "rate_login_ip", NULL },
		{ __LINE__, "rate_login_ip = x/60\n", "rate_login_ip", NULL },
		{ __LINE__, "email_verification = maybe\r\n",
		  "email_verification", "maybe" },
		{ __LINE__, "access_ttl\n", "line 1", NULL },	/* no '=' */
		{ __LINE__, "a\r\nb\r\nc\r\n", "line 1", NULL },
		{ __LINE__, "access_ttl = 120\r\n\r\nbogus\r\n", "line 3",
		  NULL },
		{ __LINE__, "= 5\n", "line 1", NULL },
		{ __LINE__, "access_ttl = 120\n[section]\n", "line 2", NULL },
	};
	struct cfg	c;
	char		err[ERRSZ];
	enum usher_err	rc;
	size_t		i;

	for (i = 0; i < nitems(t); i++) {
		cfg_defaults(&c);
		err[0] = '\0';
		rc = cfg_parse(&c, t[i].text, err, sizeof(err));
		if (!ok_at(t[i].line, rc == USHER_ERR_CONFIG &&
		    has(err, t[i].want) && (t[i].never == NULL ||
		    !has(err, t[i].never)), "cfg_parse error case %zu "
		    "names \"%s\"", i, t[i].want))
			diag("rc %d, err \"%s\"", rc, err);
		cfg_free(&c);
	}
}

static void
test_check(void)
{
	static const struct {
		int		 line;
		const char	*kv[10];	/* key, value, ..., NULL */
		int		 want;
		const char	*never;		/* not in the message */
	} t[] = {
		{ __LINE__, { NULL }, 1, NULL },
		/* weak scrypt */
		{ __LINE__, { "scrypt_n", "16384", "scrypt_p", "1", NULL }, 0,
		  NULL },
		{ __LINE__, { "scrypt_n", "16384", "scrypt_p", "1",
		  "allow_weak_scrypt", "yes", NULL }, 1, NULL },
		{ __LINE__, { "scrypt_n", "16384", "scrypt_p", "5", NULL }, 0,
		  NULL },
		{ __LINE__, { "scrypt_p", "2", NULL }, 0, NULL },
		{ __LINE__, { "scrypt_n", "1024", "scrypt_p", "1",
		  "allow_weak_scrypt", "1", NULL }, 1, NULL },
		{ __LINE__, { "scrypt_n", "65536", "scrypt_p", "3", NULL }, 1,
		  NULL },
		/* r below 8, even with N*r*p at the floor */
		{ __LINE__, { "scrypt_r", "4", "scrypt_p", "6", NULL }, 0,
		  NULL },
		{ __LINE__, { "scrypt_r", "7", "scrypt_p", "16", NULL }, 0,
		  NULL },
		{ __LINE__, { "scrypt_r", "4", "scrypt_p", "6",
		  "allow_weak_scrypt", "yes", NULL }, 1, NULL },
		/* N a power of two */
		{ __LINE__, { "scrypt_n", "98304", NULL }, 0, NULL },
		{ __LINE__, { "scrypt_n", "32769", NULL }, 0, NULL },
		{ __LINE__, { "scrypt_n", "1000000", NULL }, 0, NULL },
		{ __LINE__, { "scrypt_n", "98304", "allow_weak_scrypt", "yes",
		  NULL }, 0, NULL },
		{ __LINE__, { "scrypt_n", "1048576", NULL }, 1, NULL },
		/* HS256 secrets */
		{ __LINE__, { "jwt_alg", "HS256", NULL }, 0, NULL },
		{ __LINE__, { "jwt_alg", "HS256", "jwt_secret", "", NULL }, 0,
		  NULL },
		{ __LINE__, { "jwt_alg", "HS256", "jwt_secret", SECRET31,
		  NULL }, 0, SECRET31 },
		{ __LINE__, { "jwt_alg", "HS256", "jwt_secret", SECRET32,
		  NULL }, 1, NULL },
		{ __LINE__, { "jwt_alg", "ES256", "jwt_secret", "short", NULL },
		  1, NULL },
		{ __LINE__, { "jwt_alg", "RS256", NULL }, 1, NULL },
		/* refresh_ttl must exceed access_ttl */
		{ __LINE__, { "access_ttl", "3600", "refresh_ttl", "3600",
		  NULL }, 0, NULL },
		{ __LINE__, { "access_ttl", "3600", "refresh_ttl", "3601",
		  NULL }, 1, NULL },
		/* identifiers and URLs */
		{ __LINE__, { "issuer", "", NULL }, 0, NULL },
		{ __LINE__, { "audience", "", NULL }, 0, NULL },
		{ __LINE__, { "public_url", "ftp://example.org", NULL }, 0,
		  NULL },
		{ __LINE__, { "public_url", "example.org", NULL }, 0, NULL },
		{ __LINE__, { "public_url", "https://example.org", NULL }, 1,
		  NULL },
		/* mail: a sender we can put in From, a transport we have */
		{ __LINE__, { "mail_from", "usher", NULL }, 0, NULL },
		{ __LINE__, { "mail_from", "Usher <no-reply@example.org", NULL },
		  0, NULL },
		{ __LINE__, { "mail_from", "Usher <a@b@example.org>", NULL }, 0,
		  NULL },
		{ __LINE__, { "mail_from", "\"Ушер\" <no-reply@example.org>",
		  NULL }, 1, NULL },
		{ __LINE__, { "mail_from", "no-reply@example.org", NULL }, 1,
		  NULL },
		{ __LINE__, { "mail_reply_to", "help desk", NULL }, 0, NULL },
		{ __LINE__, { "mail_transport", "sendmail", NULL }, 0, NULL },
		{ __LINE__, { "mail_transport", "smtp", NULL }, 0, NULL },
		{ __LINE__, { "mail_transport", "smtp", "smtp_url",
		  "smtp://mx.example.org:587", NULL }, 1, NULL },
		{ __LINE__, { "frontend_url", "https://app.example.org/", NULL },
		  0, NULL },
	};
	struct cfg	 c;
	char		 err[ERRSZ];
	enum usher_err	 rc;
	size_t		 i, j;
	int		 good;

	for (i = 0; i < nitems(t); i++) {
		cfg_defaults(&c);
		good = 1;
		for (j = 0; t[i].kv[j] != NULL; j += 2)
			if (cfg_set(&c, t[i].kv[j], t[i].kv[j + 1], err,
			    sizeof(err)) != USHER_OK)
				good = 0;
		err[0] = '\0';
		rc = cfg_check(&c, err, sizeof(err));
		if (t[i].want)
			good = good && rc == USHER_OK;
		else
			good = good && rc == USHER_ERR_CONFIG &&
			    err[0] != '\0' && (t[i].never == NULL ||
			    !has(err, t[i].never));
		if (!ok_at(t[i].line, good, "cfg_check case %zu: %s", i,
		    t[i].want ? "accepted" : "refused"))
			diag("rc %d, err \"%s\"", rc, err);
		cfg_free(&c);
	}
}

/* cfg_check keeps mail_from's address and domain, parsed once. */
static void
test_sender(void)
{
	static const struct {
		int		 line;
		const char	*from, *addr, *domain;
	} t[] = {
		{ __LINE__, NULL, "no-reply@localhost", "localhost" },
		{ __LINE__, "no-reply@example.org", "no-reply@example.org",
		  "example.org" },
		{ __LINE__, "\"Ушер\" <bounce@mail.example.org>",
		  "bounce@mail.example.org", "mail.example.org" },
		{ __LINE__, "Usher <a@b.example>", "a@b.example", "b.example" },
	};
	struct cfg	 c;
	char		 err[ERRSZ];
	size_t		 i;

	for (i = 0; i < nitems(t); i++) {
		cfg_defaults(&c);
		if (t[i].from != NULL)
			(void)cfg_set(&c, "mail_from", t[i].from, err,
			    sizeof(err));
		ok_at(t[i].line, cfg_check(&c, err, sizeof(err)) == USHER_OK &&
		    strcmp(c.mail_from_addr, t[i].addr) == 0 &&
		    strcmp(c.mail_domain, t[i].domain) == 0,
		    "mail_from %s: address %s, domain %s",
		    t[i].from ? t[i].from : "(default)", c.mail_from_addr,
		    c.mail_domain);
		cfg_free(&c);
	}
}

/* Files test_load() reads, written once. */
enum tfile { F_NONE, F_GOOD, F_MISSING, F_BAD, F_NUL, F_WEAK, F_FULL, F_HUGE,
	F_DIR, F__MAX };

static const char	*tfiles[F__MAX];

#define WRITE_LIT(s)	write_tmp((s), sizeof(s) - 1)

static void
make_files(void)
{
	static char	 big[70 * 1024];
	static char	 missing[128];
	size_t		 i;

	tfiles[F_NONE] = NULL;
	tfiles[F_GOOD] = WRITE_LIT("# test\naccess_ttl = 300\n"
	    "issuer = file-issuer\n");
	snprintf(missing, sizeof(missing), "%s.missing", tfiles[F_GOOD]);
	tfiles[F_MISSING] = missing;
	tfiles[F_BAD] = WRITE_LIT("access_ttl = 300\nnot a line\n");
	tfiles[F_NUL] = WRITE_LIT("access_ttl = 300\n\0\n");
	tfiles[F_WEAK] = WRITE_LIT("scrypt_n = 16384\nscrypt_p = 1\n");
	/* 64 KiB of comment lines: the most a file may hold; then 1 more */
	for (i = 0; i + 64 <= 64 * 1024; i += 64) {
		memset(big + i, '#', 63);
		big[i + 63] = '\n';
	}
	tfiles[F_FULL] = write_tmp(big, 64 * 1024);
	big[64 * 1024] = '#';
	tfiles[F_HUGE] = write_tmp(big, 64 * 1024 + 1);
	tfiles[F_DIR] = "/tmp";
}

/*
 * cfg_load with a path and an environment; "@GOOD" and "@MISSING" in the
 * environment stand for USHER_CONFIG naming those files.
 */
static void
test_load(void)
{
	static const struct {
		int		 line;
		enum tfile	 path;
		const char	*env[8];
		enum usher_err	 want;
		unsigned	 ttl;		/* access_ttl after; 0: any */
		const char	*has;		/* in the message */
		const char	*never;		/* not in the message */
	} t[] = {
		{ __LINE__, F_GOOD, { NULL }, USHER_OK, 300, NULL, NULL },
		{ __LINE__, F_GOOD, { "USHER_ACCESS_TTL=120", NULL }, USHER_OK,
		  120, NULL, NULL },
		{ __LINE__, F_NONE, { "@GOOD", NULL }, USHER_OK, 300, NULL,
		  NULL },
		{ __LINE__, F_NONE, { "USHER_ACCESS_TTL=120", "@GOOD", NULL },
		  USHER_OK, 120, NULL, NULL },
		{ __LINE__, F_NONE, { "@GOOD", "USHER_ACCESS_TTL=120", NULL },
		  USHER_OK, 120, NULL, NULL },
		{ __LINE__, F_GOOD, { "@MISSING", NULL }, USHER_OK, 300, NULL,
		  NULL },				/* path beats it */
		{ __LINE__, F_GOOD, { "USHER_ACCESS_TTL=120",
		  "USHER_ACCESS_TTL=180", NULL }, USHER_OK, 180, NULL, NULL },
		{ __LINE__, F_MISSING, { NULL }, USHER_ERR_CONFIG, 0,
		  ".missing", NULL },
		{ __LINE__, F_NONE, { "@MISSING", NULL }, USHER_ERR_CONFIG, 0,
		  ".missing", NULL },
		{ __LINE__, F_DIR, { NULL }, USHER_ERR_CONFIG, 0, NULL, NULL },
		/* other tools' variables, and not ours at all */
		{ __LINE__, F_GOOD, { "USHER_E2E_BASE_URL=http://x",
		  "USHER_E2E_FOO=1", "USHER_E2E_=", "PATH=/bin", "HOME=/root",
		  "USHERFOO=1", "XUSHER_FOO=1", NULL }, USHER_OK, 300, NULL,
		  NULL },
		{ __LINE__, F_GOOD, { "USHER_FOO=1", NULL }, USHER_ERR_CONFIG,
		  0, "foo", NULL },
		{ __LINE__, F_GOOD, { "USHER_E2E_FOO=1", "USHER_FOO=1", NULL },
		  USHER_ERR_CONFIG, 0, "foo", NULL },
		{ __LINE__, F_GOOD, { "USHER_A_VERY_LONG_VARIABLE_NAME_THAT_IS_"
		  "NO_KEY_OF_USHER_AT_ALL_REALLY_NOT=1", NULL },
		  USHER_ERR_CONFIG, 0, NULL, NULL },
		{ __LINE__, F_GOOD, { "USHER_ACCESS_TTL=abc", NULL },
		  USHER_ERR_CONFIG, 0, "access_ttl", "abc" },
		{ __LINE__, F_GOOD, { "USHER_ACCESS_TTL=59", NULL },
		  USHER_ERR_CONFIG, 0, "access_ttl", NULL },
		/* the result is checked */
		{ __LINE__, F_GOOD, { "USHER_JWT_ALG=HS256", NULL },
		  USHER_ERR_CONFIG, 0, "HS256", NULL },
		{ __LINE__, F_GOOD, { "USHER_JWT_ALG=HS256",
		  "USHER_JWT_SECRET=" SECRET31, NULL }, USHER_ERR_CONFIG, 0,
		  "HS256", SECRET31 },
		{ __LINE__, F_GOOD, { "USHER_JWT_ALG=HS256",
		  "USHER_JWT_SECRET=" SECRET32, NULL }, USHER_OK, 300, NULL,
		  NULL },
		{ __LINE__, F_GOOD, { "USHER_ACCESS_TTL=3600",
		  "USHER_REFRESH_TTL=3600", NULL }, USHER_ERR_CONFIG, 0, NULL,
		  NULL },
		{ __LINE__, F_WEAK, { NULL }, USHER_ERR_CONFIG, 0, "scrypt",
		  NULL },
		{ __LINE__, F_WEAK, { "USHER_ALLOW_WEAK_SCRYPT=yes", NULL },
		  USHER_OK, 900, NULL, NULL },
		{ __LINE__, F_GOOD, { "USHER_SCRYPT_N=16384",
		  "USHER_SCRYPT_P=1", NULL }, USHER_ERR_CONFIG, 0, "scrypt",
		  NULL },
		/* files */
		{ __LINE__, F_BAD, { NULL }, USHER_ERR_CONFIG, 0, "line 2",
		  NULL },
		{ __LINE__, F_NUL, { NULL }, USHER_ERR_CONFIG, 0, NULL, NULL },
		{ __LINE__, F_FULL, { NULL }, USHER_OK, 900, NULL, NULL },
		{ __LINE__, F_HUGE, { NULL }, USHER_ERR_CONFIG, 0, NULL, NULL },
	};
	char		 cfggood[128], cfgmissing[128], err[ERRSZ];
	char		*env[8];
	struct cfg	 c;
	enum usher_err	 rc;
	size_t		 i, j;
	int		 good;

	make_files();
	snprintf(cfggood, sizeof(cfggood), "USHER_CONFIG=%s", tfiles[F_GOOD]);
	snprintf(cfgmissing, sizeof(cfgmissing), "USHER_CONFIG=%s",
	    tfiles[F_MISSING]);
	for (i = 0; i < nitems(t); i++) {
		for (j = 0; t[i].env[j] != NULL; j++) {
			if (strcmp(t[i].env[j], "@GOOD") == 0)
				env[j] = cfggood;
			else if (strcmp(t[i].env[j], "@MISSING") == 0)
				env[j] = cfgmissing;
			else
				env[j] = (char *)(uintptr_t)t[i].env[j];
		}
		env[j] = NULL;
		err[0] = '\0';
		rc = cfg_load(&c, tfiles[t[i].path], env, err, sizeof(err));
		good = rc == t[i].want;
		if (good && rc == USHER_OK && t[i].ttl != 0)
			good = c.access_ttl == t[i].ttl;
		if (good && rc != USHER_OK)
			good = err[0] != '\0';
		if (good && t[i].has != NULL)
			good = has(err, t[i].has);
		if (good && t[i].never != NULL)
			good = !has(err, t[i].never);
		if (!ok_at(t[i].line, good, "cfg_load case %zu: %s", i,
		    t[i].want == USHER_OK ? "loads" : "refused"))
			diag("rc %d, access_ttl %u, err \"%s\"", rc,
			    c.access_ttl, err);
		cfg_free(&c);
	}
}

/* What a successful load holds, file and environment together. */
static void
test_load_values(void)
{
	char		 cfgvar[128], err[ERRSZ] = "";
	char		 e_secret[] = "USHER_JWT_SECRET=" SECRET32;
	char		 e_alg[] = "USHER_JWT_ALG=HS256";
	char		 e_proxies[] = "USHER_TRUSTED_PROXIES=10.0.0.1, ::1";
	char		 e_rate[] = "USHER_RATE_LOGIN_IP=7/30";
	char		*env[6];
	struct cfg	 c;

	snprintf(cfgvar, sizeof(cfgvar), "USHER_CONFIG=%s", tfiles[F_GOOD]);
	env[0] = cfgvar;
	env[1] = e_secret;
	env[2] = e_alg;
	env[3] = e_proxies;
	env[4] = e_rate;
	env[5] = NULL;
	ok(cfg_load(&c, NULL, env, err, sizeof(err)) == USHER_OK,
	    "load: file from USHER_CONFIG and four variables");
	ok(c.access_ttl == 300 && strcmp(c.issuer, "file-issuer") == 0,
	    "load: the file's values");
	ok(c.jwt_alg == CFG_ALG_HS256 && c.jwt_secret != NULL &&
	    strcmp(c.jwt_secret, SECRET32) == 0, "load: HS256 and its secret");
	ok(c.ntrusted_proxies == 2 && strcmp(c.trusted_proxies[0],
	    "10.0.0.1") == 0 && strcmp(c.trusted_proxies[1], "::1") == 0,
	    "load: a list from a variable");
	ok(c.rate[RATE_LOGIN_IP].count == 7 &&
	    c.rate[RATE_LOGIN_IP].window == 30, "load: a rate from a variable");
	ok(c.refresh_grace == 10 && c.scrypt_n == 32768,
	    "load: defaults for the rest");
	cfg_free(&c);
}

/* No USHER_CONFIG, or an empty one: the default file, if it is absent. */
static void
test_load_default(void)
{
	const char	*dflt = SYSCONFDIR "/usher/usher.conf";
	char		 e_empty[] = "USHER_CONFIG=";
	char		*env[2], err[ERRSZ];
	struct cfg	 c;
	int		 i;

	for (i = 0; i < 2; i++) {
		env[0] = i == 0 ? NULL : e_empty;
		env[1] = NULL;
		if (access(dflt, F_OK) == 0) {
			ok(1, "# skip %s exists", dflt);
			continue;
		}
		ok(cfg_load(&c, NULL, env, err, sizeof(err)) == USHER_OK &&
		    c.access_ttl == 900, "%s: a missing default file is no "
		    "error", i == 0 ? "no USHER_CONFIG" : "USHER_CONFIG=''");
		cfg_free(&c);
	}
}

int
main(void)
{
	test_defaults();
	test_set();
	test_set_values();
	test_lists();
	test_parse();
	test_parse_errors();
	test_check();
	test_sender();
	test_load();
	test_load_values();
	test_load_default();
	remove_tmp();
	return done_testing();
}
