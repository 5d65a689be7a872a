"""Attendance history of a cell's members over its closed meetings (the secretary's roster)."""
