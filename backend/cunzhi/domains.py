"""The one list of record-type registrations the sync engine loads.

A new record type adds its ``entities`` module here (see docs/architecture.md); the engine imports
nothing of a domain by name, so domains may import the engine without a circle.
"""

DOMAINS: tuple[str, ...] = (
    "cunzhi.mediation.entities",
    # grid work (issue 7): household, patrol, incident; the derived write of a case on its incident
    "cunzhi.grid.entities",
    # six-no, nominations, points (issue 8)
    "cunzhi.six_no.entities",
    "cunzhi.nominations.entities",
    "cunzhi.points.entities",
)

# called before each batch of changes commits, in its transaction (module:function)
CHANGE_LISTENERS: tuple[str, ...] = (
    "cunzhi.integrations.webhooks:enqueue",  # webhook deliveries: the outbox of integrations.md
)

# called once at load (module:function) to register row observers (registry.register_row_observer): tables kept
# exact beside the records in the same transaction
ROW_OBSERVERS: tuple[str, ...] = (
    "cunzhi.dashboard.summary:register",  # the dashboard's summary tables (docs/decisions.md)
)
