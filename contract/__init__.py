"""Contract checks: the running app against openapi.yaml (see contract/README.md)."""
