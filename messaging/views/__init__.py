"""Messaging views, one module per page or dialog."""
