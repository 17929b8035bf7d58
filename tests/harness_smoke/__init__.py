"""Smoke tests: one real operation per component of the test harness."""
