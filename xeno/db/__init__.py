"""The database: tables, bulk writes, migrations."""
