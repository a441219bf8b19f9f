"""Notifications: the events a run produces, and their signed delivery to a tenant's webhooks
(DESIGN.md section 9). The executor derives events (`events`); the notifier function delivers
them (`notifier`); `service` is the logic behind the /v1/webhooks routes."""
