"""Reading untrusted input safely: bounded, depth-limited, never a crash on odd bytes."""
