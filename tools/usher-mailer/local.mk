# tools/usher-mailer/local.mk -- the mail worker daemon and its systemd unit
sbin_PROGRAMS += tools/usher-mailer/usher-mailer
tools_usher_mailer_usher_mailer_SOURCES = tools/usher-mailer/usher-mailer.c
tools_usher_mailer_usher_mailer_LDADD = $(USHER_LIBS)
dist_man_MANS += tools/usher-mailer/usher-mailer.8

systemdunitdir = $(pkgdatadir)/systemd
systemdunit_DATA = tools/usher-mailer/usher-mailer.service
EXTRA_DIST += tools/usher-mailer/usher-mailer.service.in
CLEANFILES += tools/usher-mailer/usher-mailer.service
tools/usher-mailer/usher-mailer.service: $(top_srcdir)/tools/usher-mailer/usher-mailer.service.in Makefile
	@$(MKDIR_P) tools/usher-mailer
	$(AM_V_GEN)sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    -e 's|@localstatedir[@]|$(localstatedir)|g' \
	    $(top_srcdir)/tools/usher-mailer/usher-mailer.service.in > $@
