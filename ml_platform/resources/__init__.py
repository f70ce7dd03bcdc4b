"""One resource module per external system."""
