"""Benchmarks: a seeded workload generator (generate.py) and the harness that writes BENCHMARKS.md (run.py)."""
