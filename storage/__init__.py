"""The archive: SQLAlchemy models, schema migrations, and the append-only record of what sources said.

Nothing here reads settings or the environment; callers pass a database URL and values.
"""
