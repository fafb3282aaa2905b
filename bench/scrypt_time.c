/* scrypt_time.c -- how long one libscrypt hash takes, for bench/run's bound */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libscrypt.h>

/*
 * usage: scrypt_time N r p [rounds]
 * Prints the shortest wall time of `rounds` libscrypt_scrypt() calls with
 * these parameters, in seconds, as usher's pw_hash() calls it (16-byte
 * salt, 64-byte key): other load only ever makes a call slower. One core:
 * the bound of a machine is cores / this time.
 */
static int
parse(const char *s, unsigned long long max, unsigned long long *out)
{
	char	*end;

	*out = strtoull(s, &end, 10);
	return s[0] != '\0' && s[0] != '-' && *end == '\0' && *out >= 1 &&
	    *out <= max;
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char *argv[])
{
	static const char	 pw[] = "correct horse battery staple";
	uint8_t			 salt[16], dk[64];
	unsigned long long	 n, r, p, rounds = 5, i;
	double			*t, t0;

	if ((argc != 4 && argc != 5) || !parse(argv[1], 1ULL << 30, &n) ||
	    !parse(argv[2], 255, &r) || !parse(argv[3], 255, &p) ||
	    (argc == 5 && !parse(argv[4], 1000, &rounds))) {
		fprintf(stderr, "usage: scrypt_time N r p [rounds]\n");
		return 2;
	}
	if ((t = calloc(rounds, sizeof(*t))) == NULL)
		return 1;
	memset(salt, 0x5a, sizeof(salt));
	for (i = 0; i < rounds; i++) {
		t0 = now();
		if (libscrypt_scrypt((const uint8_t *)pw, sizeof(pw) - 1, salt,
		    sizeof(salt), n, (uint32_t)r, (uint32_t)p, dk,
		    sizeof(dk)) != 0) {
			fprintf(stderr, "scrypt_time: libscrypt_scrypt failed\n");
			free(t);
			return 1;
		}
		t[i] = now() - t0;
	}
	qsort(t, rounds, sizeof(*t), cmp);
	printf("%.6f\n", t[0]);
	free(t);
	return 0;
}
