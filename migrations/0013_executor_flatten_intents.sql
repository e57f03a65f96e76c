-- An emergency flatten sells every position back to the quote asset. Its orders are the
-- executor's own, not a bot's, yet every order names the intent it came from (client order
-- id = intent id): the executor records a flatten intent for each, and may record nothing
-- else in order_intents.
GRANT INSERT ON trading.order_intents TO gordon_executor;
CREATE POLICY order_intents_executor_flatten ON trading.order_intents FOR INSERT TO gordon_executor
    WITH CHECK (reason LIKE 'flatten:%' AND side = 'SELL' AND order_type = 'MARKET');
