"""What every domain stands on, knowing no domain."""
