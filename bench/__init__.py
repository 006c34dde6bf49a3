"""Benchmarks of the hub (run by ``make bench``, not by pytest)."""
