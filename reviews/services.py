"""Writes for states, sessions and reviews."""
