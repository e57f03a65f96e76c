-- Stop-loss and take-profit intents carry their trigger (Binance's stopPrice); without this
-- column the executor would read back a stop order it cannot place.
ALTER TABLE trading.order_intents ADD COLUMN stop_price numeric CHECK (stop_price > 0);
ALTER TABLE trading.order_intents ADD CONSTRAINT order_intents_stop_price_for_stop_types
    CHECK ((stop_price IS NOT NULL) = (order_type IN ('STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT')));
-- The reader view lists the table's columns as they were when it was made.
CREATE OR REPLACE VIEW trading.v_order_intents AS SELECT * FROM trading.order_intents;
