"""Delivery channels: each sends a batch of notifications as one message (syslog: one
message per notification) and raises :class:`~.base.DeliveryError` when it could not."""
