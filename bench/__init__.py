"""Benchmarks (issue 7). Not tests: run one at a time, by hand, with `python -m bench.<name>`; see README."""
