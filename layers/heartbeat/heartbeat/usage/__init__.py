"""Usage and budgets: what each tenant's runs spend per UTC day, the daily token budget that
bounds it, and the estimated cost from a per-model price table. Logic only; the DynamoDB calls
are in `heartbeat.dal.usage`."""
