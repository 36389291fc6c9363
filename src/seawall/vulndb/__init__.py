"""Vulnerability data: OSV import and update, the advisory store, version ordering, matching."""
