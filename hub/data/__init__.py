"""Data shipped with the hub: the demo city."""
