"""Deploys: the resumable state machine, its lock, the alias history and the deploy-time re-check."""
