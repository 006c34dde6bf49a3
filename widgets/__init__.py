"""Textual widgets of the operator console, one per module; they render and post messages,
and never talk to the hub."""
