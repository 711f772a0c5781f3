"""Prefect flows, tasks, settings and the command line: thin wiring only."""
