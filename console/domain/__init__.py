"""Pure domain rules: no Flask, no database. Everything here is testable with plain data."""
