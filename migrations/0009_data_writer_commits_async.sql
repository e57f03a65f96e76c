-- gordon-data's rows are market history the providers give again: on start the kline ingest
-- resumes after the newest stored kline and fetches the rest over REST, and metric polls ask
-- for windows that overlap the last (open interest is a sample of the moment: a power cut
-- can cost one sample). So its commits need not wait for the WAL flush: a crash of
-- PostgreSQL loses nothing (the WAL is already with the OS), a power cut at most the last
-- few hundred milliseconds of rows, which the next start fetches again; and the live path
-- no longer waits on the disk between a kline closing and its event. Orders and fills (every
-- other writer) keep synchronous commits.
--
-- Role settings are cluster-wide, like the roles (0001): set only when missing, and the
-- loser of a race between two databases' migrations finds the winner's setting.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
                   WHERE r.rolname = 'gordon_data_writer' AND s.setdatabase = 0
                     AND 'synchronous_commit=off' = ANY (s.setconfig)) THEN
        BEGIN
            ALTER ROLE gordon_data_writer SET synchronous_commit = off;
        EXCEPTION WHEN internal_error OR unique_violation THEN  -- "tuple concurrently updated"
            NULL;
        END;
    END IF;
END
$$;
