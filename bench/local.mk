# bench/local.mk -- benchmarks (bench/run): the FastCGI ceiling and a
# libscrypt timer, built but never installed
noinst_PROGRAMS += bench/hello bench/scrypt_time
bench_hello_SOURCES = bench/hello.c
bench_hello_LDADD = $(FCGI_LIBS)
bench_scrypt_time_SOURCES = bench/scrypt_time.c
bench_scrypt_time_LDADD = $(SCRYPT_LIBS)

EXTRA_DIST += bench/run bench/README bench/refresh.lua bench/login.lua \
	bench/register.lua bench/common.lua \
	bench/stats.lua
