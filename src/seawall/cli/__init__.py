"""The command line: one module per command group, thin layers over the engines."""
