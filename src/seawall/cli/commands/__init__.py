"""Command modules: each defines ``register(app)`` and adds its commands or command group.

``seawall.cli.main`` imports every module here, so a new command is a new module. Modules
import their engines inside the command functions, keeping ``seawall --help`` fast.
"""
