"""Benchmark harness: synthetic orders, our engine's steps timed beside plain references.

Run with ``python -m bench`` (see bench/run.py for the environment variables). Not a test suite.
"""
