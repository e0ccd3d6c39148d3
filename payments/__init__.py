"""Evenkeel payments service: the system of record behind the assistant."""
