"""The read side: scoped, filtered, sorted, paginated lists and details, shared by the API
and the dashboard (one module per kind of thing listed)."""
