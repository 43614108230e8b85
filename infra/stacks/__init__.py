"""Stacks compose constructs; they build nothing themselves."""
