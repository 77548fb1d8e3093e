"""Benchmarks of matcher, each a ratio against a baseline measured in the same run (see README.md)."""
