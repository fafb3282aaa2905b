# tests/local.mk -- C unit tests of lib/ (TAP); the end-to-end suite runs from tests/run
UNIT_TESTS = tests/unit/t_rnd tests/unit/t_pw tests/unit/t_tok \
	tests/unit/t_json tests/unit/t_valid tests/unit/t_cfg tests/unit/t_buf \
	tests/unit/t_mime \
	tests/unit/t_tmpl tests/unit/t_mailtx tests/unit/t_db
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
tests_unit_t_rnd_SOURCES = tests/unit/t_rnd.c tests/unit/tap.h
tests_unit_t_rnd_LDADD = $(USHER_LIBS)
tests_unit_t_pw_SOURCES = tests/unit/t_pw.c tests/unit/tap.h
tests_unit_t_pw_LDADD = $(USHER_LIBS)
tests_unit_t_pw_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_DATADIR='"$(abs_top_srcdir)/data"'
tests_unit_t_tok_SOURCES = tests/unit/t_tok.c tests/unit/tap.h
tests_unit_t_tok_LDADD = $(USHER_LIBS) $(JWT_LIBS)
tests_unit_t_json_SOURCES = tests/unit/t_json.c tests/unit/tap.h
tests_unit_t_json_LDADD = $(USHER_LIBS)
tests_unit_t_valid_SOURCES = tests/unit/t_valid.c tests/unit/tap.h
tests_unit_t_valid_LDADD = $(USHER_LIBS)
tests_unit_t_cfg_SOURCES = tests/unit/t_cfg.c tests/unit/tap.h
tests_unit_t_cfg_LDADD = $(USHER_LIBS)
tests_unit_t_buf_SOURCES = tests/unit/t_buf.c tests/unit/tap.h
tests_unit_t_buf_LDADD = $(USHER_LIBS)
tests_unit_t_mime_SOURCES = tests/unit/t_mime.c tests/unit/tap.h
tests_unit_t_mime_LDADD = $(USHER_LIBS)
tests_unit_t_tmpl_SOURCES = tests/unit/t_tmpl.c tests/unit/tap.h
tests_unit_t_tmpl_LDADD = $(USHER_LIBS)
tests_unit_t_tmpl_CPPFLAGS = $(AM_CPPFLAGS) \
	-DTEST_TEMPLATES='"$(abs_top_srcdir)/templates"'
tests_unit_t_mailtx_SOURCES = tests/unit/t_mailtx.c tests/unit/tap.h
tests_unit_t_mailtx_LDADD = $(USHER_LIBS)
# t_db needs a PostgreSQL: USHER_TEST_PG (tests/run sets it), else skipped
tests_unit_t_db_SOURCES = tests/unit/t_db.c tests/unit/tap.h
tests_unit_t_db_LDADD = $(USHER_LIBS)

EXTRA_DIST += tests/run tests/lib tests/e2e
