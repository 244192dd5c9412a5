"""The contract run's Schemathesis extensions, one concern per module (contract/hooks.py registers
them; contract/README.md has the map)."""
