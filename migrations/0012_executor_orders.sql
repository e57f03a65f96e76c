-- The executor records an accepted intent as a PENDING_NEW order before it goes to the
-- exchange (and a refused one as REJECTED with its reason), so an order carries everything
-- needed to place it again after a crash: the quote amount of a quote-sized MARKET order and
-- the trigger of a stop order.
ALTER TABLE trading.orders
    ADD COLUMN quote_order_quantity numeric CHECK (quote_order_quantity > 0),
    ADD COLUMN stop_price numeric CHECK (stop_price > 0);
CREATE OR REPLACE VIEW trading.v_orders AS SELECT * FROM trading.orders;
CREATE OR REPLACE VIEW trading.v_own_bot_orders AS
    SELECT * FROM trading.orders WHERE bot_id = trading.bot_of(current_user);

-- The executor refuses intents of a bot that is not running: it reads the desired state.
GRANT SELECT ON trading.v_bot_configs TO gordon_executor;
