"""Clients generated from openapi.yaml, and the scenario each one runs (see contract/README.md)."""
