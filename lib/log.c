/* log.c -- structured logging: one JSON object per line on stderr */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char	*log_prog = "usher";
static enum log_level	 log_min = LOG_LVL_INFO;
static char		 log_req[80];

static const char *const level_names[LOG_LVL__MAX] = {
	"debug", "info", "warn", "error"
};

void
log_init(const char *prog, enum log_level min)
{
	log_prog = prog;
	log_min = min;
}

void
log_set_request(const char *id)
{
	if (id == NULL)
		log_req[0] = '\0';
	else
		snprintf(log_req, sizeof(log_req), "%s", id);
}

/* Append s to out[*pos..sz) as JSON string content; truncates silently. */
static void
json_escape_into(char *out, size_t sz, size_t *pos, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	  c;

	for (; *s != '\0' && *pos + 7 < sz; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[(*pos)++] = '\\';
			out[(*pos)++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			out[(*pos)++] = '\\';
			out[(*pos)++] = 'u';
			out[(*pos)++] = '0';
			out[(*pos)++] = '0';
			out[(*pos)++] = hex[c >> 4];
			out[(*pos)++] = hex[c & 0xf];
		} else
			out[(*pos)++] = (char)c;
	}
	out[*pos] = '\0';
}

void
log_msg(enum log_level lvl, const char *func, const char *fmt, ...)
{
	char		 msg[1024], line[2600], ts[32];
	size_t		 pos = 0;
	va_list		 ap;
	struct timespec	 now;
	struct tm	 tm;
	int		 n;

	if (lvl < log_min || lvl >= LOG_LVL__MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);

	n = snprintf(line, sizeof(line),
	    "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"prog\":\"%s\","
	    "\"pid\":%ld,", ts, now.tv_nsec / 1000000, level_names[lvl],
	    log_prog, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	pos = (size_t)n;
	if (log_req[0] != '\0') {
		n = snprintf(line + pos, sizeof(line) - pos, "\"request_id\":\"");
		pos += (size_t)n;
		json_escape_into(line, sizeof(line), &pos, log_req);
		n = snprintf(line + pos, sizeof(line) - pos, "\",");
		pos += (size_t)n;
	}
	n = snprintf(line + pos, sizeof(line) - pos, "\"func\":\"%s\",\"msg\":\"",
	    func);
	if (n < 0 || pos + (size_t)n >= sizeof(line))
		return;
	pos += (size_t)n;
	json_escape_into(line, sizeof(line) - 4, &pos, msg);
	line[pos++] = '"';
	line[pos++] = '}';
	line[pos++] = '\n';
	line[pos] = '\0';
	fputs(line, stderr);
	fflush(stderr);
}
