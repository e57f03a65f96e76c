-- Kline files an operator imports through gordon-manager (`gordonctl data import`): the
-- manager checks the file, stores it in the import directory it shares with gordon-data
-- under the name of its SHA-256, and files the request with that name; gordon-data imports
-- it as it runs a backfill, then removes the file. A request without a file is a REST
-- backfill, as before.
ALTER TABLE market_data.backfill_requests
    ADD COLUMN file_name text CHECK (file_name ~ '^[0-9a-f]{64}\.(zip|csv)$');

-- A view's column list is fixed when it is made: recreated so it shows the new column.
CREATE OR REPLACE VIEW market_data.v_backfill_requests AS SELECT * FROM market_data.backfill_requests;
GRANT SELECT (file_name) ON market_data.backfill_requests TO gordon_data_writer;
