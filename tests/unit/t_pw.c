/* t_pw.c -- unit tests of lib/pw.c: scrypt hashes, stored parameters, policy */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pw.h"
#include "tap.h"

#ifndef TEST_DATADIR
#error "TEST_DATADIR must name the folder holding common-passwords.txt"
#endif

#define CHEAP_N		1024ULL		/* a weak test set: N=2^10, r=8, p=1 */

static enum usher_err
verify(const char *pw, const char *stored, int *rehash)
{
	return pw_verify(pw, strlen(pw), stored, rehash);
}

/* A copy of stored with the six parameter hex digits replaced. */
static void
with_params(const char *stored, const char *hex6, char out[LIM_SCRYPT_HASH])
{
	snprintf(out, LIM_SCRYPT_HASH, "%s", stored);
	memcpy(out + 4, hex6, 6);
}

static void
test_init(void)
{
	static const struct {
		int		 line;
		uint64_t	 n;
		uint32_t	 r, p;
		int		 weak;
		unsigned	 min;
		enum usher_err	 want;
	} t[] = {
		{ __LINE__, 1ULL << 14, 8, 1, 0, 8, USHER_ERR_CONFIG },
		{ __LINE__, 1ULL << 14, 8, 5, 0, 8, USHER_ERR_CONFIG },
		{ __LINE__, 1ULL << 15, 8, 2, 0, 8, USHER_ERR_CONFIG },
		{ __LINE__, 1ULL << 15, 4, 6, 0, 8, USHER_ERR_CONFIG },	/* r < 8 */
		{ __LINE__, 1ULL << 21, 8, 1, 0, 8, USHER_ERR_CONFIG },	/* too big */
		{ __LINE__, 3ULL << 15, 8, 3, 0, 8, USHER_ERR_CONFIG },	/* not 2^k */
		{ __LINE__, 1ULL << 15, 8, 256, 0, 8, USHER_ERR_CONFIG }, /* MCF */
		{ __LINE__, 1ULL << 15, 0, 3, 1, 8, USHER_ERR_CONFIG },
		{ __LINE__, 1ULL << 15, 8, 0, 1, 8, USHER_ERR_CONFIG },
		{ __LINE__, 1, 8, 1, 1, 8, USHER_ERR_CONFIG },
		{ __LINE__, CHEAP_N, 8, 1, 1, 7, USHER_ERR_CONFIG },	/* floor */
		{ __LINE__, CHEAP_N, 8, 1, 1, 1025, USHER_ERR_CONFIG },
		{ __LINE__, CHEAP_N, 8, 1, 1, 8, USHER_OK },
	};
	size_t	i;

	for (i = 0; i < nitems(t); i++)
		ok_at(t[i].line, pw_init(t[i].n, t[i].r, t[i].p, t[i].weak,
		    t[i].min) == t[i].want, "pw_init N=%llu r=%u p=%u weak=%d "
		    "min=%u", (unsigned long long)t[i].n, t[i].r, t[i].p,
		    t[i].weak, t[i].min);
}

/* Hash and verify with the cheap set; the stored string is never touched. */
static void
test_hash_verify(void)
{
	const char	*pw = "correct horse battery staple";
	char		 h[LIM_SCRYPT_HASH], h2[LIM_SCRYPT_HASH];
	char		 copy[LIM_SCRYPT_HASH];
	uint64_t	 n;
	uint32_t	 r, p;
	int		 rehash;

	ok(pw_hash(pw, strlen(pw), h) == USHER_OK, "pw_hash");
	ok(strncmp(h, "$s1$0a0801$", 11) == 0 && strlen(h) == 124,
	    "MCF shape: %.11s... (%zu bytes)", h, strlen(h));
	ok(pw_params(h, &n, &r, &p) && n == CHEAP_N && r == 8 && p == 1,
	    "pw_params reads N, r, p");
	ok(pw_hash(pw, strlen(pw), h2) == USHER_OK && strcmp(h, h2) != 0,
	    "two hashes of one password differ (random salt)");

	memcpy(copy, h, sizeof(copy));
	rehash = -1;
	ok(verify(pw, h, &rehash) == USHER_OK && rehash == 0,
	    "right password verifies, no rehash");
	ok(memcmp(copy, h, sizeof(copy)) == 0,
	    "stored string unchanged after a match");
	ok(verify("correct horse battery stapl", h, &rehash) ==
	    USHER_ERR_CREDENTIALS, "wrong password refused");
	ok(verify("", h, &rehash) == USHER_ERR_CREDENTIALS,
	    "empty password refused");
	ok(memcmp(copy, h, sizeof(copy)) == 0,
	    "stored string unchanged after a mismatch");
	ok(verify(pw, h, NULL) == USHER_OK, "rehash pointer may be NULL");

	/* libscrypt reads up to the first NUL: "pw\0junk" must not match. */
	ok(pw_verify("correct horse battery staple\0junk", 33, h, &rehash) ==
	    USHER_ERR_CREDENTIALS, "NUL inside the password refused");
	ok(pw_hash("abc\0defghij", 11, h2) == USHER_ERR_WEAK_PASSWORD,
	    "pw_hash refuses a NUL inside the password");
	pw_verify_dummy(pw, strlen(pw));
	ok(1, "pw_verify_dummy returns");
}

/* Parameter sets in stored hashes: only known ones are run. */
static void
test_stored_params(void)
{
	static const struct {
		int		 line;
		const char	*hex;
		enum usher_err	 want;
	} t[] = {
		{ __LINE__, "0a0401", USHER_ERR_INTERNAL },	/* r=4 */
		{ __LINE__, "0a0802", USHER_ERR_INTERNAL },	/* p=2 */
		{ __LINE__, "0a1001", USHER_ERR_INTERNAL },	/* r=16 */
		{ __LINE__, "090801", USHER_ERR_INTERNAL },	/* 2^9 */
		{ __LINE__, "100801", USHER_ERR_INTERNAL },	/* 2^16 p1 */
		{ __LINE__, "140801", USHER_ERR_INTERNAL },	/* 2^20 */
		{ __LINE__, "1e0801", USHER_ERR_INTERNAL },	/* 2^30 */
		{ __LINE__, "ff0801", USHER_ERR_INTERNAL },
		{ __LINE__, "0a0800", USHER_ERR_INTERNAL },	/* p=0 */
		{ __LINE__, "000801", USHER_ERR_INTERNAL },	/* N=1 */
		/* known weak set, other parameters: runs and mismatches */
		{ __LINE__, "0b0801", USHER_ERR_CREDENTIALS },
	};
	const char	*pw = "Tr0ub4dor&3-extended";
	char		 h[LIM_SCRYPT_HASH], m[LIM_SCRYPT_HASH];
	size_t		 i;
	int		 rehash;

	ok(pw_hash(pw, strlen(pw), h) == USHER_OK, "pw_hash (cheap)");
	for (i = 0; i < nitems(t); i++) {
		with_params(h, t[i].hex, m);
		ok_at(t[i].line, verify(pw, m, &rehash) == t[i].want,
		    "stored parameters %s", t[i].hex);
	}
}

/* Malformed MCF strings are refused before libscrypt sees them. */
static void
test_malformed(void)
{
	static const struct {
		int		 line;
		int		 edit;	/* 0: replace whole, 1: cut, 2: append */
		const char	*s;
	} t[] = {
		{ __LINE__, 0, "" },
		{ __LINE__, 0, "$s1$" },
		{ __LINE__, 0, "$s1$0a0801$" },
		{ __LINE__, 0, "$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ012" },
		{ __LINE__, 0, "$7$CU..../....abcdefgh$0123456789" },
		{ __LINE__, 1, NULL },		/* last character cut */
		{ __LINE__, 2, "A" },		/* one character added */
		{ __LINE__, 2, "$" },
	};
	static const struct {
		int	 line;
		size_t	 at;
		char	 c;
	} pokes[] = {
		{ __LINE__, 0, '#' },		/* identifier */
		{ __LINE__, 2, '0' },		/* "$s0$" */
		{ __LINE__, 4, 'A' },		/* uppercase hex */
		{ __LINE__, 5, 'g' },		/* not hex */
		{ __LINE__, 10, '.' },		/* separator */
		{ __LINE__, 12, '*' },		/* salt alphabet */
		{ __LINE__, 34, 'A' },		/* salt padding */
		{ __LINE__, 35, 'x' },		/* separator */
		{ __LINE__, 40, '-' },		/* hash alphabet (base64url) */
		{ __LINE__, 123, 'A' },		/* hash padding */
		{ __LINE__, 60, '\n' },
	};
	const char	*pw = "malformed-test-password";
	char		 h[LIM_SCRYPT_HASH], m[LIM_SCRYPT_HASH + 8];
	uint64_t	 n;
	uint32_t	 r, p;
	size_t		 i;
	int		 rehash;

	ok(pw_hash(pw, strlen(pw), h) == USHER_OK, "pw_hash (cheap)");
	ok(verify(pw, NULL, &rehash) == USHER_ERR_INTERNAL, "NULL stored hash");
	for (i = 0; i < nitems(t); i++) {
		if (t[i].edit == 0)
			snprintf(m, sizeof(m), "%s", t[i].s);
		else if (t[i].edit == 1)
			snprintf(m, sizeof(m), "%.*s", (int)strlen(h) - 1, h);
		else
			snprintf(m, sizeof(m), "%s%s", h, t[i].s);
		ok_at(t[i].line, verify(pw, m, &rehash) == USHER_ERR_INTERNAL &&
		    !pw_params(m, &n, &r, &p), "malformed MCF case %zu", i);
	}
	for (i = 0; i < nitems(pokes); i++) {
		snprintf(m, sizeof(m), "%s", h);
		m[pokes[i].at] = pokes[i].c;
		ok_at(pokes[i].line, verify(pw, m, &rehash) ==
		    USHER_ERR_INTERNAL, "MCF with byte %zu changed",
		    pokes[i].at);
	}
}

/* Re-hash when the stored work N*r*p is below the configured one. */
static void
test_rehash(void)
{
	const char	*pw = "rehash-me-please";
	char		 h10[LIM_SCRYPT_HASH], h11[LIM_SCRYPT_HASH];
	int		 rehash;

	ok(pw_init(CHEAP_N, 8, 1, 1, 8) == USHER_OK &&
	    pw_hash(pw, strlen(pw), h10) == USHER_OK, "hash with N=2^10");
	ok(pw_init(CHEAP_N * 2, 8, 1, 1, 8) == USHER_OK &&
	    pw_hash(pw, strlen(pw), h11) == USHER_OK, "hash with N=2^11");
	rehash = 0;
	ok(verify(pw, h10, &rehash) == USHER_OK && rehash == 1,
	    "weaker stored set: match and rehash");
	rehash = 1;
	ok(verify(pw, h11, &rehash) == USHER_OK && rehash == 0,
	    "configured set: no rehash");
	rehash = 1;
	ok(verify("wrong", h10, &rehash) == USHER_ERR_CREDENTIALS &&
	    rehash == 0, "no rehash on a mismatch");
	ok(pw_init(CHEAP_N, 8, 1, 1, 8) == USHER_OK, "back to N=2^10");
	rehash = 1;
	ok(verify(pw, h11, &rehash) == USHER_OK && rehash == 0,
	    "stronger stored set: no rehash");
}

/*
 * The real parameters: one default-strength hash, an OWASP set weaker by
 * N*r*p that still verifies but asks for a rehash, and weak test sets
 * refused once allow_weak is off.
 */
static void
test_default_params(void)
{
	const char	*pw = "a default-strength password";
	char		 h[LIM_SCRYPT_HASH], h14[LIM_SCRYPT_HASH];
	char		 cheap[LIM_SCRYPT_HASH];
	int		 rehash;

	ok(pw_init(CHEAP_N, 8, 1, 1, 8) == USHER_OK &&
	    pw_hash(pw, strlen(pw), cheap) == USHER_OK, "cheap hash");
	ok(pw_init(1ULL << 14, 8, 5, 1, 8) == USHER_OK &&
	    pw_hash(pw, strlen(pw), h14) == USHER_OK &&
	    strncmp(h14, "$s1$0e0805$", 11) == 0, "hash with N=2^14 r=8 p=5");

	ok(pw_init(1ULL << 15, 8, 3, 0, 8) == USHER_OK,
	    "pw_init N=2^15 r=8 p=3 (default)");
	ok(pw_hash(pw, strlen(pw), h) == USHER_OK &&
	    strncmp(h, "$s1$0f0803$", 11) == 0, "default hash: %.11s", h);
	rehash = 1;
	ok(verify(pw, h, &rehash) == USHER_OK && rehash == 0,
	    "default hash verifies, no rehash");
	rehash = 0;
	ok(verify(pw, h14, &rehash) == USHER_OK && rehash == 1,
	    "N=2^14 r=8 p=5 is known, weaker by N*r*p: rehash");
	ok(verify(pw, cheap, &rehash) == USHER_ERR_INTERNAL,
	    "weak test set refused without allow_weak");
}

static void
test_policy_table(void)
{
	static char	 long1024[1025], long1025[1026];
	static const struct {
		int		 line;
		const char	*pw;
		size_t		 len;	/* 0: strlen */
		enum usher_err	 want;
	} t[] = {
		{ __LINE__, "", 0, USHER_ERR_WEAK_PASSWORD },
		{ __LINE__, "x7$kQ9!", 0, USHER_ERR_WEAK_PASSWORD },
		{ __LINE__, "x7$kQ9!z", 0, USHER_OK },
		{ __LINE__, "   x7$kQ9!z  ", 0, USHER_OK },	/* kept as is */
		/* characters, not bytes: 4 characters in 8 bytes */
		{ __LINE__, "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87", 0,
		  USHER_ERR_WEAK_PASSWORD },
		/* 8 characters in 14 bytes */
		{ __LINE__, "\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c"
		  "12", 0, USHER_OK },
		{ __LINE__, long1024, 1024, USHER_OK },
		{ __LINE__, long1025, 1025, USHER_ERR_WEAK_PASSWORD },
		/* common, whatever the case */
		{ __LINE__, "baseball", 0, USHER_ERR_WEAK_PASSWORD },
		{ __LINE__, "BaseBall", 0, USHER_ERR_WEAK_PASSWORD },
		{ __LINE__, "PASSWORD1", 0, USHER_ERR_WEAK_PASSWORD },
		{ __LINE__, "qwertyuiop", 0, USHER_ERR_WEAK_PASSWORD },
		{ __LINE__, "TrustNo1", 0, USHER_ERR_WEAK_PASSWORD },
		{ __LINE__, "baseball!", 0, USHER_OK },
		/* header comment lines of the list are not entries */
		{ __LINE__, "#      WITH THE SOFTWARE OR THE USE OR OTHER "
		  "DEALINGS IN THE SOFTWARE.", 0, USHER_OK },
		/* invalid UTF-8 */
		{ __LINE__, "abcdefgh\xff", 0, USHER_ERR_WEAK_PASSWORD },
		{ __LINE__, "\xc0\xafzbcdefgh", 0, USHER_ERR_WEAK_PASSWORD },
		{ __LINE__, "\xed\xa0\x80zbcdefgh", 0, USHER_ERR_WEAK_PASSWORD },
		{ __LINE__, "abcdefgh\xe2\x82", 0, USHER_ERR_WEAK_PASSWORD },
		{ __LINE__, "\xf4\x90\x80\x80zbcdefgh", 0,
		  USHER_ERR_WEAK_PASSWORD },
		/* NUL inside */
		{ __LINE__, "abcdefgh\0ijklm", 14, USHER_ERR_WEAK_PASSWORD },
		{ __LINE__, "\0bcdefghijklm", 13, USHER_ERR_WEAK_PASSWORD },
	};
	size_t	i, len;

	for (i = 0; i < 1024; i++)
		long1024[i] = long1025[i] = "abcdefghijklmnopqrstuvwxyz"[i % 26];
	long1025[1024] = 'z';
	for (i = 0; i < nitems(t); i++) {
		len = t[i].len != 0 ? t[i].len : strlen(t[i].pw);
		ok_at(t[i].line, pw_policy(t[i].pw, len) == t[i].want,
		    "pw_policy case %zu (%zu bytes)", i, len);
	}
}

static void
test_policy(void)
{
	char	 path[] = "/tmp/t_pw.XXXXXX";
	FILE	*f;
	int	 fd;

	ok(pw_init(CHEAP_N, 8, 1, 1, 8) == USHER_OK, "pw_init min=8");
	ok(pw_load_common("/nonexistent/common-passwords.txt") ==
	    USHER_ERR_CONFIG, "missing list refused");
	ok(pw_policy("baseball", 8) == USHER_OK, "no list loaded: not common");

	/* A small list: comments, blank lines and CRLF. */
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		bail_out("mkstemp");
	fputs("# Header Comment Line\n\n   \nHunter22Hunter\r\n"
	    "#not-a-comment-really\nzebra-crossing-9\nzebra-crossing-9\n"
	    "unterminated-last-line", f);
	fclose(f);
	ok(pw_load_common(path) == USHER_OK, "small list loads");
	unlink(path);
	ok(pw_policy("hunter22hunter", 14) == USHER_ERR_WEAK_PASSWORD,
	    "CRLF entry refused, folded");
	ok(pw_policy("ZEBRA-CROSSING-9", 16) == USHER_ERR_WEAK_PASSWORD,
	    "duplicate entry refused");
	ok(pw_policy("Unterminated-Last-Line", 22) == USHER_ERR_WEAK_PASSWORD,
	    "last line without newline refused");
	ok(pw_policy("# Header Comment Line", 21) == USHER_OK &&
	    pw_policy("#not-a-comment-really", 21) == USHER_OK,
	    "'#' lines are comments");
	ok(pw_policy("   ", 3) == USHER_ERR_WEAK_PASSWORD, "short anyway");

	ok(pw_load_common(TEST_DATADIR "/common-passwords.txt") == USHER_OK,
	    "shipped list loads");
	ok(pw_policy("hunter22hunter", 14) == USHER_OK,
	    "reloading replaces the old list");
	test_policy_table();

	ok(pw_init(CHEAP_N, 8, 1, 1, 12) == USHER_OK, "pw_init min=12");
	ok(pw_policy("x7$kQ9!zab1", 11) == USHER_ERR_WEAK_PASSWORD,
	    "11 characters refused with min=12");
	ok(pw_policy("x7$kQ9!zab12", 12) == USHER_OK,
	    "12 characters accepted with min=12");
}

int
main(void)
{
	test_init();
	test_hash_verify();
	test_stored_params();
	test_malformed();
	test_rehash();
	test_policy();
	test_default_params();
	pw_free();
	return done_testing();
}
