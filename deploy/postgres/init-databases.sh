#!/bin/sh
# Runs once, on the first start of the official postgres image (/docker-entrypoint-initdb.d).
# One database per service, owned by a role of the same name with its own password
# (PG_PASSWORD_<SERVICE>): a service can reach only its own tables (DESIGN.md §2).
set -eu

for svc in identity documents meetings notify analytics; do
    var="PG_PASSWORD_$(echo "$svc" | tr '[:lower:]' '[:upper:]')"
    eval "pw=\${$var:?$var must be set}"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v role="$svc" -v pw="$pw" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'pw')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'role', :'role')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'role') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'role') \gexec
SQL
done
