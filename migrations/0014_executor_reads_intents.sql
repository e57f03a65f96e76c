-- An intent the executor's consumer dead-lettered never becomes an order, and its bot waits
-- for a verdict. The executor's reconciliation finds such intents (its own dead letters
-- joined to the intents) and records them refused. It reads them through the view, which
-- shows every bot's intents and grants no write.
GRANT SELECT ON trading.v_order_intents TO gordon_executor;
