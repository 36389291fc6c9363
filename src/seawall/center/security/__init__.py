"""Who may do what: roles, scopes, password and token hashing, sessions and CSRF, the login
rate limit."""
