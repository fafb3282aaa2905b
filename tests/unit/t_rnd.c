/* t_rnd.c -- unit tests of lib/rnd.c: randomness, base64url, hex, SHA-256 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rnd.h"
#include "tap.h"
#include "valid.h"

/* RFC 4648 section 10 vectors, in the URL alphabet without padding. */
static const struct {
	int		 line;
	const char	*raw;
	const char	*enc;
} vectors[] = {
	{ __LINE__, "", "" },
	{ __LINE__, "f", "Zg" },
	{ __LINE__, "fo", "Zm8" },
	{ __LINE__, "foo", "Zm9v" },
	{ __LINE__, "foob", "Zm9vYg" },
	{ __LINE__, "fooba", "Zm9vYmE" },
	{ __LINE__, "foobar", "Zm9vYmFy" },
	{ __LINE__, "\xfb\xff\xbf", "-_-_" },	/* '+' and '/' are not used */
	{ __LINE__, "\x03\xe0", "A-A" },
};

/* Inputs b64url_decode must refuse. */
static const struct {
	int		 line;
	const char	*enc;
	size_t		 max;
} bad[] = {
	{ __LINE__, "Zg==", 16 },	/* padding */
	{ __LINE__, "Z", 16 },		/* length 1 mod 4 */
	{ __LINE__, "Zm9vY", 16 },	/* length 1 mod 4 */
	{ __LINE__, "Zm+v", 16 },	/* standard alphabet */
	{ __LINE__, "Zm/v", 16 },
	{ __LINE__, "Zm9 v", 16 },	/* whitespace */
	{ __LINE__, "Zm9v\n", 16 },
	{ __LINE__, "Zh", 16 },		/* non-zero left-over bits */
	{ __LINE__, "Zm9", 16 },
	{ __LINE__, "Zm9vYmFy", 5 },	/* does not fit */
	{ __LINE__, "Zm8", 1 },
};

static const struct {
	int		 line;
	const char	*in;
	const char	*hex;
} digests[] = {
	{ __LINE__, "",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ __LINE__, "abc",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ __LINE__, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
};

static void
test_vectors(void)
{
	unsigned char	 out[64];
	char		*enc;
	size_t		 i, n, len;
	int		 r;

	for (i = 0; i < nitems(vectors); i++) {
		len = strlen(vectors[i].raw);
		enc = b64url_encode(vectors[i].raw, len);
		ok_at(vectors[i].line, strcmp(enc, vectors[i].enc) == 0,
		    "b64url_encode -> \"%s\"", vectors[i].enc);
		free(enc);
		r = b64url_decode(vectors[i].enc, out, sizeof(out), &n);
		ok_at(vectors[i].line, r == 1 && n == len &&
		    memcmp(out, vectors[i].raw, len) == 0,
		    "b64url_decode \"%s\"", vectors[i].enc);
	}
	for (i = 0; i < nitems(bad); i++) {
		n = 99;
		r = b64url_decode(bad[i].enc, out, bad[i].max, &n);
		ok_at(bad[i].line, r == 0 && n == 0,
		    "b64url_decode refuses case %zu", i);
	}
}

/* Every length round-trips, the exact fit decodes, one byte less fails. */
static void
test_roundtrip(void)
{
	unsigned char	 in[70], out[70];
	char		*enc;
	size_t		 len, n;
	int		 good = 1;

	ok(rnd_bytes(in, sizeof(in)) == USHER_OK, "rnd_bytes");
	for (len = 0; len <= sizeof(in); len++) {
		enc = b64url_encode(in, len);
		if (strlen(enc) != (len * 4 + 2) / 3 ||
		    !b64url_decode(enc, out, len, &n) || n != len ||
		    memcmp(in, out, len) != 0 ||
		    (len > 0 && b64url_decode(enc, out, len - 1, &n)))
			good = 0;
		free(enc);
	}
	ok(good, "b64url round trip of 0..70 bytes");
}

static void
test_random(void)
{
	unsigned char	 a[32], b[32], zero[32];
	char		 u1[37], u2[37];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(zero, 0, sizeof(zero));
	ok(rnd_bytes(a, sizeof(a)) == USHER_OK &&
	    rnd_bytes(b, sizeof(b)) == USHER_OK, "rnd_bytes twice");
	ok(memcmp(a, b, sizeof(a)) != 0 && memcmp(a, zero, sizeof(a)) != 0,
	    "rnd_bytes gives different, non-zero output");
	ok(rnd_bytes(a, 0) == USHER_OK, "rnd_bytes of 0 bytes");
	ok(rnd_uuid(u1) == USHER_OK && rnd_uuid(u2) == USHER_OK, "rnd_uuid");
	ok(valid_uuid(u1) && valid_uuid(u2) && strcmp(u1, u2) != 0,
	    "rnd_uuid is a canonical UUID: %s", u1);
	ok(u1[14] == '4' && strchr("89ab", u1[19]) != NULL,
	    "rnd_uuid has version 4, variant 10");
}

static void
test_digest(void)
{
	unsigned char	 d[32];
	char		 hex[65];
	size_t		 i;

	for (i = 0; i < nitems(digests); i++) {
		sha256(digests[i].in, strlen(digests[i].in), d);
		hex_encode(d, sizeof(d), hex);
		ok_at(digests[i].line, strcmp(hex, digests[i].hex) == 0,
		    "sha256 vector %zu", i);
	}
	hex_encode("\x00\xff\x10", 3, hex);
	ok(strcmp(hex, "00ff10") == 0, "hex_encode is lowercase");
	hex_encode("", 0, hex);
	ok(hex[0] == '\0', "hex_encode of nothing");
	ok(ct_equal("abcd", "abcd", 4), "ct_equal equal");
	ok(!ct_equal("abcd", "abce", 4), "ct_equal differs in the last byte");
	ok(!ct_equal("xbcd", "abcd", 4), "ct_equal differs in the first byte");
	ok(ct_equal("a", "b", 0), "ct_equal of nothing");
}

int
main(void)
{
	test_vectors();
	test_roundtrip();
	test_random();
	test_digest();
	return done_testing();
}
