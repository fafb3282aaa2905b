/* usherctl.c -- the administrator's tool: migrations, keys, users, sessions */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "acct.h"
#include "cfg.h"
#include "db.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "mail.h"
#include "mailtx.h"
#include "migrate.h"
#include "pw.h"
#include "sess.h"
#include "tmpl.h"
#include "tok.h"
#include "valid.h"

/* Exit statuses (usherctl(8)). */
#define EX_OK		0
#define EX_FAIL		1
#define EX_USAGE	2
#define EX_NOTFOUND	3

static int	json_out;

struct cmd {
	const char	*group, *name;
	int		(*fn)(int, char **);
	const char	*usage;
};

static int
status_of(enum usher_err rc)
{
	if (rc == USHER_OK)
		return EX_OK;
	if (rc == USHER_ERR_NOT_FOUND)
		return EX_NOTFOUND;
	fprintf(stderr, "usherctl: %s\n", usher_strerror(rc));
	return EX_FAIL;
}

static void
print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static const char *
jstr(struct json_object *o, const char *k)
{
	const char	*s = json_str(o, k);

	return s ? s : "-";
}

static void
print_user(const struct user *u)
{
	struct json_object	*o = user_json(u);

	if (json_out) {
		print_json(o);
		return;
	}
	printf("%s\t%s\t%s\t%s\t%s\t%s\n", u->id, jstr(o, "email"),
	    jstr(o, "username"), role_name(u->role), status_name(u->status),
	    u->email_verified ? "verified" : "unverified");
	json_object_put(o);
}

/* Options after the command words: --name value or --flag. */
static const char *
opt(int argc, char **argv, const char *name)
{
	int	i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return i + 1 < argc ? argv[i + 1] : "";
	return NULL;
}

static int
has(int argc, char **argv, const char *name)
{
	return opt(argc, argv, name) != NULL;
}

static int
c_migrate(int argc, char **argv)
{
	const char	*dir = opt(argc, argv, "--dir");
	enum usher_err	 rc;
	int		 n, v;

	rc = migrate_apply(dir ? dir : PKGDATADIR "/sql", &n);
	if (rc != USHER_OK)
		return status_of(rc);
	(void)migrate_version(&v);
	if (json_out)
		printf("{\"applied\":%d,\"schema_version\":%d}\n", n, v);
	else
		printf("applied %d migration(s); schema version %d\n", n, v);
	return EX_OK;
}

static int
c_keys_generate(int argc, char **argv)
{
	const char	*a = opt(argc, argv, "--alg");
	enum tok_alg	 alg;
	char		 kid[65];
	int		 cur;
	enum usher_err	 rc;

	alg = a ? tok_alg_parse(a) :
	    cfg.jwt_alg == CFG_ALG_RS256 ? TOK_RS256 : TOK_ES256;
	if (alg != TOK_ES256 && alg != TOK_RS256) {
		fprintf(stderr, "usherctl: --alg must be ES256 or RS256\n");
		return EX_USAGE;
	}
	if ((rc = keys_generate(alg, kid, &cur)) != USHER_OK)
		return status_of(rc);
	if (json_out)
		printf("{\"kid\":\"%s\",\"alg\":\"%s\",\"state\":\"%s\"}\n",
		    kid, tok_alg_name(alg), cur ? "current" : "next");
	else
		printf("%s\t%s\t%s\n", kid, tok_alg_name(alg),
		    cur ? "current" : "next");
	return EX_OK;
}

static int
c_keys_list(int argc, char **argv)
{
	struct json_object	*a, *k;
	enum usher_err		 rc;
	size_t			 i;

	if ((rc = keys_list(&a)) != USHER_OK)
		return status_of(rc);
	if (json_out) {
		print_json(a);
		return EX_OK;
	}
	for (i = 0; i < json_object_array_length(a); i++) {
		k = json_object_array_get_idx(a, i);
		printf("%s\t%s\t%s\t%s\n", jstr(k, "kid"), jstr(k, "alg"),
		    jstr(k, "state"), jstr(k, "created_at"));
	}
	json_object_put(a);
	return EX_OK;
}

static int
c_keys_rotate(int argc, char **argv)
{
	char		kid[65];
	enum usher_err	rc;

	if ((rc = keys_rotate(kid)) != USHER_OK)
		return status_of(rc);
	if (json_out)
		printf("{\"current\":\"%s\"}\n", kid);
	else
		printf("current key: %s\n", kid);
	return EX_OK;
}

static int
c_keys_retire(int argc, char **argv)
{
	if (argc < 1)
		return EX_USAGE;
	return status_of(keys_retire(argv[0]));
}

static int
read_password(int argc, char **argv, char *buf, size_t sz)
{
	const char	*p = opt(argc, argv, "--password");
	size_t		 n;

	if (p != NULL) {
		snprintf(buf, sz, "%s", p);
		return 1;
	}
	if (!has(argc, argv, "--password-stdin"))
		return 0;
	if (fgets(buf, (int)sz, stdin) == NULL)
		return 0;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return 1;
}

static int
c_user_create(int argc, char **argv)
{
	struct newacct	 n;
	struct user	*u;
	char		 pw[LIM_PASSWORD + 2];
	const char	*role = opt(argc, argv, "--role");
	unsigned	 retry;
	enum usher_err	 rc;

	memset(&n, 0, sizeof(n));
	n.email = opt(argc, argv, "--email");
	n.username = opt(argc, argv, "--username");
	n.role = role ? role_parse(role) : ROLE_USER;
	n.verified = has(argc, argv, "--verified");
	if (n.email == NULL || !valid_email(n.email) || n.role == ROLE__MAX ||
	    n.role == ROLE_GUEST || (n.username && !valid_username(n.username)) ||
	    !read_password(argc, argv, pw, sizeof(pw))) {
		fprintf(stderr, "usherctl: user create needs a valid --email, "
		    "--password or --password-stdin, and a role above guest\n");
		return EX_USAGE;
	}
	n.password = pw;
	n.passlen = strlen(pw);
	rc = acct_register(&n, NULL, &u, NULL, &retry);
	explicit_bzero(pw, sizeof(pw));
	if (rc == USHER_ERR_WEAK_PASSWORD || rc == USHER_ERR_EMAIL_TAKEN ||
	    rc == USHER_ERR_USERNAME_TAKEN) {
		fprintf(stderr, "usherctl: %s\n", usher_strerror(rc));
		return EX_FAIL;
	}
	if (rc != USHER_OK)
		return status_of(rc);
	print_user(u);
	user_free(u);
	return EX_OK;
}

static int
c_user_list(int argc, char **argv)
{
	struct json_object	*a, *o;
	const char		*lim = opt(argc, argv, "--limit");
	int64_t			 limit = 100;
	enum usher_err		 rc;
	size_t			 i;

	if (lim != NULL && num_parse(lim, 1, 10000, &limit) != USHER_OK)
		return EX_USAGE;
	rc = acct_list(opt(argc, argv, "--role"), opt(argc, argv, "--status"),
	    (int)limit, &a);
	if (rc != USHER_OK)
		return status_of(rc);
	if (json_out) {
		print_json(a);
		return EX_OK;
	}
	for (i = 0; i < json_object_array_length(a); i++) {
		o = json_object_array_get_idx(a, i);
		printf("%s\t%s\t%s\t%s\t%s\n", jstr(o, "id"), jstr(o, "email"),
		    jstr(o, "username"), jstr(o, "role"), jstr(o, "status"));
	}
	json_object_put(a);
	return EX_OK;
}

static int
with_user(int argc, char **argv, struct user **u)
{
	enum usher_err	rc;

	if (argc < 1)
		return EX_USAGE;
	if ((rc = acct_lookup(argv[0], u)) != USHER_OK) {
		if (rc == USHER_ERR_NOT_FOUND)
			fprintf(stderr, "usherctl: no such user\n");
		return status_of(rc);
	}
	return EX_OK;
}

static int
c_user_show(int argc, char **argv)
{
	struct user	*u;
	int		 ex;

	if ((ex = with_user(argc, argv, &u)) != EX_OK)
		return ex;
	print_user(u);
	user_free(u);
	return EX_OK;
}

static int
c_user_set_role(int argc, char **argv)
{
	struct user	*u;
	enum role	 r;
	int		 ex;

	if (argc < 2 || (r = role_parse(argv[1])) == ROLE__MAX)
		return EX_USAGE;
	if ((ex = with_user(argc, argv, &u)) != EX_OK)
		return ex;
	ex = status_of(acct_set_role(u->id, r));
	user_free(u);
	return ex;
}

static int
set_status(int argc, char **argv, enum ustatus s)
{
	struct user	*u;
	int		 ex;

	if ((ex = with_user(argc, argv, &u)) != EX_OK)
		return ex;
	ex = status_of(acct_set_status(u->id, s));
	user_free(u);
	return ex;
}

static int
c_user_disable(int argc, char **argv)
{
	return set_status(argc, argv, USTATUS_DISABLED);
}

static int
c_user_enable(int argc, char **argv)
{
	return set_status(argc, argv, USTATUS_ACTIVE);
}

static int
c_sessions_list(int argc, char **argv)
{
	struct json_object	*a, *o;
	struct user		*u;
	enum usher_err		 rc;
	size_t			 i;
	int			 ex;

	if ((ex = with_user(argc, argv, &u)) != EX_OK)
		return ex;
	rc = sess_list(u->id, NULL, &a);
	user_free(u);
	if (rc != USHER_OK)
		return status_of(rc);
	if (json_out) {
		print_json(a);
		return EX_OK;
	}
	for (i = 0; i < json_object_array_length(a); i++) {
		o = json_object_array_get_idx(a, i);
		printf("%s\t%s\t%s\t%s\n", jstr(o, "id"), jstr(o, "created_at"),
		    jstr(o, "ip"), jstr(o, "user_agent"));
	}
	json_object_put(a);
	return EX_OK;
}

static int
c_sessions_revoke(int argc, char **argv)
{
	const char	*who = opt(argc, argv, "--user");
	struct user	*u;
	int		 ex;

	if (who != NULL) {
		char	*one[1] = { (char *)who };

		if ((ex = with_user(1, one, &u)) != EX_OK)
			return ex;
		ex = status_of(sess_revoke_all(u->id, NULL, "admin"));
		user_free(u);
		return ex;
	}
	if (argc < 1)
		return EX_USAGE;
	return status_of(sess_revoke_id(argv[0], "admin"));
}

static int
c_mail_list(int argc, char **argv)
{
	struct json_object	*a, *o;
	const char		*lim = opt(argc, argv, "--limit");
	const char		*st = opt(argc, argv, "--status");
	int64_t			 limit = 50;
	enum usher_err		 rc;
	size_t			 i;

	if (lim != NULL && num_parse(lim, 1, 10000, &limit) != USHER_OK)
		return EX_USAGE;
	if ((rc = mail_list(st, (int)limit, &a)) != USHER_OK)
		return status_of(rc);
	if (json_out) {
		print_json(a);
		return EX_OK;
	}
	for (i = 0; i < json_object_array_length(a); i++) {
		o = json_object_array_get_idx(a, i);
		printf("%s\t%s\t%s\t%s\t%s\t%s\n", jstr(o, "created_at"),
		    json_object_get_string(json_object_object_get(o, "id")),
		    jstr(o, "kind"), jstr(o, "to"), jstr(o, "status"),
		    jstr(o, "last_error"));
	}
	json_object_put(a);
	return EX_OK;
}

static int
c_mail_show(int argc, char **argv)
{
	struct json_object	*o;
	enum usher_err		 rc;

	if (argc < 1)
		return EX_USAGE;
	if ((rc = mail_show(argv[0], &o)) != USHER_OK)
		return status_of(rc);
	print_json(o);
	return EX_OK;
}

static int
c_mail_retry(int argc, char **argv)
{
	enum usher_err	rc;
	int		n;

	if (argc < 1)
		return EX_USAGE;
	rc = mail_retry(strcmp(argv[0], "--all-failed") == 0 ? NULL : argv[0],
	    &n);
	if (rc != USHER_OK)
		return status_of(rc);
	if (json_out)
		printf("{\"requeued\":%d}\n", n);
	else
		printf("requeued %d message(s)\n", n);
	return EX_OK;
}

static int
c_mail_preview(int argc, char **argv)
{
	const char	*loc = opt(argc, argv, "--locale");
	char		*msg;
	enum mail_kind	 k;
	enum usher_err	 rc;

	if (argc < 1 || (k = mail_kind_parse(argv[0])) == MAIL__MAX)
		return EX_USAGE;
	if (loc != NULL && strcmp(loc, "en") != 0 && strcmp(loc, "uk") != 0 &&
	    strcmp(loc, "ru") != 0)
		return EX_USAGE;
	if ((rc = tmpl_load(cfg.templates_dir)) != USHER_OK)
		return status_of(rc);
	rc = mail_preview(k, loc ? loc : "en", &msg);
	tmpl_free();
	if (rc != USHER_OK)
		return status_of(rc);
	fputs(msg, stdout);
	free(msg);
	return EX_OK;
}

static int
c_mail_flush(int argc, char **argv)
{
	struct mail_stats	 st;
	struct mailtx		*tx = NULL;
	const char		*m = opt(argc, argv, "--max");
	int64_t			 max = 0;
	enum usher_err		 rc;

	if (m != NULL && num_parse(m, 1, 1000000, &max) != USHER_OK)
		return EX_USAGE;
	if ((rc = tmpl_load(cfg.templates_dir)) == USHER_OK &&
	    (rc = mail_open_transport(&tx)) == USHER_OK)
		rc = mail_flush(tx, NULL, (unsigned)max, &st);
	mailtx_close(tx);
	tmpl_free();
	if (rc != USHER_OK)
		return status_of(rc);
	if (json_out)
		printf("{\"sent\":%u,\"retry\":%u,\"failed\":%u,\"skipped\":%u}\n",
		    st.sent, st.retry, st.failed, st.skipped);
	else
		printf("sent %u, to retry %u, failed %u, skipped %u\n",
		    st.sent, st.retry, st.failed, st.skipped);
	return EX_OK;
}

static const struct cmd cmds[] = {
	{ "migrate", NULL, c_migrate, "migrate [--dir DIR]" },
	{ "keys", "generate", c_keys_generate, "keys generate [--alg ES256|RS256]" },
	{ "keys", "list", c_keys_list, "keys list" },
	{ "keys", "rotate", c_keys_rotate, "keys rotate" },
	{ "keys", "retire", c_keys_retire, "keys retire KID" },
	{ "user", "create", c_user_create, "user create --email E "
	    "(--password P | --password-stdin) [--username U] "
	    "[--role user|moderator|admin] [--verified]" },
	{ "user", "list", c_user_list, "user list [--role R] [--status S] [--limit N]" },
	{ "user", "show", c_user_show, "user show ID|EMAIL|USERNAME" },
	{ "user", "set-role", c_user_set_role, "user set-role ID|EMAIL ROLE" },
	{ "user", "disable", c_user_disable, "user disable ID|EMAIL" },
	{ "user", "enable", c_user_enable, "user enable ID|EMAIL" },
	{ "sessions", "list", c_sessions_list, "sessions list ID|EMAIL" },
	{ "sessions", "revoke", c_sessions_revoke,
	    "sessions revoke SESSION-ID | --user ID|EMAIL" },
	{ "mail", "list", c_mail_list,
	    "mail list [--status pending|sent|failed|skipped] [--limit N]" },
	{ "mail", "show", c_mail_show, "mail show ID" },
	{ "mail", "retry", c_mail_retry, "mail retry ID | --all-failed" },
	{ "mail", "preview", c_mail_preview,
	    "mail preview KIND [--locale en|uk|ru]" },
	{ "mail", "flush", c_mail_flush, "mail flush [--max N]" },
};

#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

static void
usage(FILE *f, const char *group)
{
	size_t	i;

	fprintf(f, "usage: usherctl [--config FILE] [--json] command ...\n");
	for (i = 0; i < NCMDS; i++)
		if (group == NULL || strcmp(group, cmds[i].group) == 0)
			fprintf(f, "       usherctl %s\n", cmds[i].usage);
	fprintf(f, "See usherctl(8).\n");
}

static int
is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 ||
	    strcmp(s, "help") == 0;
}

static int
setup(const char *config)
{
	char	err[256];

	log_init("usherctl", LOG_LVL_WARN);
	if (cfg_load(&cfg, config, NULL, err, sizeof(err)) != USHER_OK) {
		fprintf(stderr, "usherctl: configuration: %s\n", err);
		return 0;
	}
	if (acct_init() != USHER_OK)
		return 0;
	if (db_init(cfg.database_url) != USHER_OK) {
		fprintf(stderr, "usherctl: cannot connect to the database\n");
		return 0;
	}
	return 1;
}

int
main(int argc, char *argv[])
{
	const char	*config = NULL;
	size_t		 i;
	int		 a = 1, ex, words;

	for (; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "--json") == 0)
			json_out = 1;
		else if (strcmp(argv[a], "--config") == 0 && a + 1 < argc)
			config = argv[++a];
		else if (is_help(argv[a])) {
			usage(stdout, NULL);
			return EX_OK;
		} else {
			usage(stderr, NULL);
			return EX_USAGE;
		}
	}
	if (a >= argc) {
		usage(stderr, NULL);
		return EX_USAGE;
	}
	for (i = 0; i < NCMDS; i++) {
		if (strcmp(argv[a], cmds[i].group) != 0)
			continue;
		words = cmds[i].name == NULL ? 1 : 2;
		if (words == 2 && (a + 1 >= argc ||
		    strcmp(argv[a + 1], cmds[i].name) != 0))
			continue;
		if (a + words < argc && is_help(argv[a + words])) {
			printf("usage: usherctl %s\n", cmds[i].usage);
			return EX_OK;
		}
		for (ex = a + words; ex < argc; ex++)
			if (strcmp(argv[ex], "--json") == 0)
				json_out = 1;
		if (!setup(config))
			return EX_FAIL;
		ex = cmds[i].fn(argc - a - words, argv + a + words);
		/* e.g. user create queued a verification mail */
		db_notify_flush();
		if (ex == EX_USAGE)
			usage(stderr, cmds[i].group);
		pw_free();
		db_close();
		cfg_free(&cfg);
		return ex;
	}
	if (a + 1 < argc && is_help(argv[a + 1])) {
		usage(stdout, argv[a]);
		return EX_OK;
	}
	usage(stderr, NULL);
	return EX_USAGE;
}
