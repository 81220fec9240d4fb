"""Checks: one small pure module per check, snapshot → findings."""
