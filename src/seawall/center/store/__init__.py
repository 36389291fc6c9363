"""The center's store: tables (``models``), the database connection and its migrations
(``database``)."""
