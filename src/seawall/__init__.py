"""Seawall: an open-source container security center."""

__version__ = "0.1.0"
