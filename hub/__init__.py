"""The hub: griddesk's server and only writer — websockets endpoint, auth, SQLAlchemy store,
event log, SLA ticker, migrations. Imports ``dispatch``; never ``backend_client`` or UI."""
