# apache-conf/local.mk -- web server configuration templates (rendered by
# tests/lib/stack.sh and tools/quickstart; see apache-conf/README)
EXTRA_DIST += apache-conf/README \
	apache-conf/usher-apache.conf.in \
	apache-conf/usher-lighttpd.conf.in
