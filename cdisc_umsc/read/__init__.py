"""Readers of raw inputs and of submission files."""
