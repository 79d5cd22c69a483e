"""Analyses over a compiled network: lint findings, diffs between two states, expectations."""
