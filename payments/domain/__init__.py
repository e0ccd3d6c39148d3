"""Pure domain model: no FastAPI, SQLAlchemy or vendor SDK imports here."""
