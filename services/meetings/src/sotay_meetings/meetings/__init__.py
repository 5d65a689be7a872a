"""Meetings: scheduling, roster, replies, check-in, attendance and closing."""
