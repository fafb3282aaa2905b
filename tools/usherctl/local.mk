# tools/usherctl/local.mk -- the administrator's command-line tool
sbin_PROGRAMS += tools/usherctl/usherctl
tools_usherctl_usherctl_SOURCES = tools/usherctl/usherctl.c
tools_usherctl_usherctl_LDADD = $(USHER_LIBS)
dist_man_MANS += tools/usherctl/usherctl.8
EXTRA_DIST += tools/quickstart
