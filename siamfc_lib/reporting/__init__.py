"""Collecting training and evaluation runs into the project's report (06_results)."""
