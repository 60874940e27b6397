"""Order writes, one module per part of the lifecycle.

``timeline`` (state moves and events; every other module moves orders through it),
``placement`` (an order from a priced cart), ``payment`` (settling gateway
notifications and status queries), ``fulfilment`` (allocation, shipments, pick-up,
delivery), ``holds`` (stock holds and allocations, for placement and fulfilment),
``cancellation``, ``pickup_reminders`` (the "still waiting" email before an
uncollected pick-up is cancelled), ``collect_by`` (how long a pick-up waits, and keeping
it longer), ``collector`` (someone else collects a pick-up), ``refunds``, ``returns``,
``messages`` (emails and webhooks through the outbox), ``exports`` (the audit entry of a
back-office CSV export), ``adoption`` (a guest's orders kept in the account they sign in
to).
Import the module:
``from omnimall.orders.services import placement``.
"""
