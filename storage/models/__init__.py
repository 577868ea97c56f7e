"""SQLModel tables, one module per domain area. Cases carry pseudonymous codes only; no table
has a field for client names."""
