-- Runs once, when the postgres volume is first initialised (docker-compose.yml mounts it into
-- /docker-entrypoint-initdb.d). The default database (POSTGRES_DB=evenkeel) belongs to the
-- payments service; Rasa's tracker store gets its own database, owned by the same user.
CREATE DATABASE tracker;
