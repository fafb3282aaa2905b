# cgi-bin/local.mk -- one small program per endpoint family
cgibin_PROGRAMS += cgi-bin/health cgi-bin/auth cgi-bin/me cgi-bin/jwks \
	cgi-bin/docs
cgi_bin_health_SOURCES = cgi-bin/health.c
cgi_bin_health_LDADD = $(USHER_LIBS)
cgi_bin_auth_SOURCES = cgi-bin/auth.c
cgi_bin_auth_LDADD = $(USHER_LIBS)
cgi_bin_me_SOURCES = cgi-bin/me.c
cgi_bin_me_LDADD = $(USHER_LIBS)
cgi_bin_jwks_SOURCES = cgi-bin/jwks.c
cgi_bin_jwks_LDADD = $(USHER_LIBS)
cgi_bin_docs_SOURCES = cgi-bin/docs.c
cgi_bin_docs_LDADD = $(USHER_LIBS)
