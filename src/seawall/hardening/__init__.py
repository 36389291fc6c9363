"""Environment hardening: assess hosts against benchmarks (``docker``: CIS Docker Benchmark)."""
