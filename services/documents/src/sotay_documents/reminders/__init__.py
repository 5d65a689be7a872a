"""Reminders to study a required publication, asked by a cell's secretary for the members of the
cell who have not studied it yet (notify sends them)."""
