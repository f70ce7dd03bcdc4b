"""Benchmarks (not tests): the Dagster path against a plain-script floor on the same work."""
