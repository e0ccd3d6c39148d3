"""Benchmarks: `make bench` writes Markdown and JSON reports to results/."""
