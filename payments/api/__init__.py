"""HTTP layer: routers, schemas, dependencies and the one place errors become responses."""
