"""The client library: connect to a hub, mirror its state, send commands and await acks.
Usable without Textual (the wallboard and scripts use it too). Imports ``dispatch`` only."""
