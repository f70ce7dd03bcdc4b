"""`make prod-like`: the production environment on this machine's real parts (see stack.py)."""
