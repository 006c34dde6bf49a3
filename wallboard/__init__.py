"""The pyqtgraph wall display for the hall's big screen: a read-only client like the console."""
