-- gordon-data's rows are market history the providers give again: on start the kline ingest
-- resumes after the newest stored kline and fetches the rest over REST, and every metric
-- poll asks for a window that overlaps the last. So its commits need not wait for the WAL
-- flush: a crash of PostgreSQL loses nothing (the WAL is already with the OS), a power cut
-- loses at most the last few hundred milliseconds of rows, which the next start fetches
-- again; and the live path no longer waits on the disk between a kline closing and its
-- event. Orders and fills (every other writer) keep synchronous commits.
ALTER ROLE gordon_data_writer SET synchronous_commit = off;
