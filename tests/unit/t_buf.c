/* t_buf.c -- the capped buffer and the bounded file reader of lib/buf.c */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "tap.h"

static void
test_cap(void)
{
	struct buf	 b;
	char		*out = NULL;
	size_t		 len = 0;

	buf_init(&b, 8);
	ok(buf_take(&b, &out, &len) == USHER_OK && strcmp(out, "") == 0 &&
	    len == 0, "nothing added: an empty string");
	free(out);
	buf_str(&b, "abcd");
	buf_add(&b, "efgh", 4);
	ok(b.len == 8 && !b.over && strcmp(b.p, "abcdefgh") == 0,
	    "exactly the cap fits");
	buf_add(&b, "i", 1);
	ok(b.over && b.len == 8, "one byte more: over, nothing appended");
	buf_str(&b, "");
	ok(buf_take(&b, &out, &len) == USHER_ERR_TOO_LARGE && b.p == NULL &&
	    b.len == 0, "take reports the cap once and frees the text");
	buf_str(&b, "again");
	ok(buf_take(&b, &out, NULL) == USHER_OK && strcmp(out, "again") == 0,
	    "the buffer is usable after");
	free(out);
	buf_init(&b, 1 << 20);
	for (len = 0; len < 1000; len++)
		buf_str(&b, "0123456789");
	ok(b.len == 10000 && strlen(b.p) == 10000, "grows past its first "
	    "allocation, NUL-terminated");
	buf_free(&b);
	ok(b.p == NULL && b.len == 0 && b.max == 1 << 20, "free keeps the cap");
}

static void
test_file(void)
{
	char		 dir[] = "/tmp/t_buf.XXXXXX", path[64], *out;
	size_t		 len;
	FILE		*f;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/f", dir);
	ok(file_read(path, 16, &out, &len) == USHER_ERR_NOT_FOUND &&
	    out == NULL, "a missing file: not found");
	f = fopen(path, "w");
	fwrite("abc\0def", 1, 7, f);
	fclose(f);
	ok(file_read(path, 7, &out, &len) == USHER_OK && len == 7 &&
	    memcmp(out, "abc\0def", 8) == 0, "read whole, NUL kept, "
	    "NUL-terminated");
	free(out);
	ok(file_read(path, 6, &out, &len) == USHER_ERR_TOO_LARGE &&
	    out == NULL, "one byte over the limit: too large");
	ok(file_read(dir, 16, &out, &len) == USHER_ERR_INVALID && out == NULL,
	    "a folder opens but cannot be read: invalid");
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	test_cap();
	test_file();
	return done_testing();
}
