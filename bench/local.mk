# bench/local.mk -- benchmarks (bench/run)
