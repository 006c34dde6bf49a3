"""griddesk's pure domain: models, catalog, workflow, SLA clock, routing, escalation, metrics
and the wire protocol. No I/O, no asyncio, no UI, no database — everything here is plain
functions over immutable values, so the hub, the console and the tests share one truth."""
