"""The coordinator's SQLAlchemy store: engine, sessions, models and Alembic migrations."""
