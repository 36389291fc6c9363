"""Hostile inputs, built small: each a few KB that would cost gigabytes or hang a naive
reader."""

from __future__ import annotations


def alias_bomb(levels: int = 9, key: str = "bomb") -> str:
    """A YAML mapping entry ``key:`` whose aliases expand to ``10 ** levels`` scalars
    (about a kilobyte; the "billion laughs")."""
    lines = [f"{key}:", "  l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"  l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def deep_json(levels: int = 100_000) -> bytes:
    """JSON nested ``levels`` arrays deep (a RecursionError, or worse, for a recursive
    parser)."""
    return b"[" * levels + b"]" * levels
