"""Visio: live online classes for teachers and students."""
