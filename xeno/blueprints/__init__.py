"""The HTTP faces of the app, one blueprint per file."""
