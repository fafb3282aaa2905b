# lib/local.mk -- the shared library, a convenience archive linked into every program
noinst_LIBRARIES += lib/libusher.a
lib_libusher_a_SOURCES = \
	lib/limits.h lib/err.h lib/err.c \
	lib/xmalloc.h lib/xmalloc.c \
	lib/buf.h lib/buf.c \
	lib/log.h lib/log.c \
	lib/cfg.h lib/cfg.c \
	lib/valid.h lib/valid.c \
	lib/json.h lib/json.c \
	lib/rnd.h lib/rnd.c \
	lib/pw.h lib/pw.c \
	lib/tok.h lib/tok.c \
	lib/db.h lib/db.c \
	lib/http.h lib/http.c lib/req.c lib/resp.c lib/http_int.h \
	lib/keys.h lib/keys.c \
	lib/throttle.h lib/throttle.c \
	lib/user.h lib/user.c \
	lib/sess.h lib/sess.c \
	lib/acct.h lib/acct.c lib/acct_int.h lib/acct_mail.c \
	lib/atok.h lib/atok.c \
	lib/tmpl.h lib/tmpl.c \
	lib/mime.h lib/mime.c \
	lib/mailtx.h lib/mailtx.c \
	lib/mail.h lib/mail.c lib/maild.c \
	lib/auth.h lib/auth.c \
	lib/migrate.h lib/migrate.c
