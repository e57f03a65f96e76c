-- Gordon's two schemas and its six login roles (DESIGN §5).
--
-- Roles are cluster-wide, so they are created only when missing: the same cluster may
-- hold several Gordon databases (tests clone one per test). Roles never get a password
-- here; `gordon-migrate set-password` sets one from the service's keyfile at deploy time.

DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY[
        'gordon_data_writer', 'gordon_executor', 'gordon_risk',
        'gordon_manager', 'gordon_bot', 'gordon_lab_reader'
    ] LOOP
        -- Two databases of one cluster may be migrated at once; the loser of a creation
        -- race finds the winner's role, which is just as good.
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
                EXECUTE format('CREATE ROLE %I LOGIN', role_name);
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
        -- A role someone widened by hand is narrowed again; only then is it altered, so
        -- concurrent migrations of a healthy cluster never update the same catalog row.
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name
                   AND (NOT rolcanlogin OR rolsuper OR rolcreatedb OR rolcreaterole
                        OR rolreplication OR rolbypassrls OR NOT rolinherit)) THEN
            EXECUTE format(
                'ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT',
                role_name);
        END IF;
    END LOOP;
END
$$;

-- PUBLIC gets nothing: not the database, not the public schema, not our schemas.
DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format(
        'GRANT CONNECT ON DATABASE %I TO gordon_data_writer, gordon_executor, gordon_risk, '
        'gordon_manager, gordon_bot, gordon_lab_reader',
        current_database());
END
$$;
REVOKE ALL ON SCHEMA public FROM PUBLIC;

CREATE SCHEMA market_data;
CREATE SCHEMA trading;
REVOKE ALL ON SCHEMA market_data FROM PUBLIC;
REVOKE ALL ON SCHEMA trading FROM PUBLIC;

-- Objects created later by the migrator start with no PUBLIC rights either, including
-- EXECUTE on functions, which Postgres would otherwise grant to PUBLIC by default.
ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM PUBLIC;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON SEQUENCES FROM PUBLIC;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES REVOKE USAGE ON TYPES FROM PUBLIC;

-- Every service checks at start-up that the schema is not behind its binary, so every
-- runtime role reads the migration ledger (and nothing else in public).
GRANT USAGE ON SCHEMA public TO gordon_data_writer, gordon_executor, gordon_risk,
    gordon_manager, gordon_bot, gordon_lab_reader;
GRANT SELECT ON public.schema_migrations TO gordon_data_writer, gordon_executor, gordon_risk,
    gordon_manager, gordon_bot, gordon_lab_reader;
