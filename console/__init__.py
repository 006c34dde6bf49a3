"""The operator console and the ``griddesk`` command line: the one place that wires the hub
and the UI together (for the embedded demo)."""
