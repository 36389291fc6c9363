"""Output formats. Each writer turns an engine result into text; the CLI picks one by name."""
