"""Textual screens of the operator console, one per module, each with its ``.tcss`` beside it."""
