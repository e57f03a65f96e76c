-- Synthetic trading history: one bot, :orders filled orders and :trades trades spread
-- over them. Used by the backup tests and Benchmarks/backup (psql variables orders, trades).
INSERT INTO trading.bot_configs (bot_id, strategy, symbols, interval)
VALUES ('seed-bot', 'sma_crossover', ARRAY['BTCUSDT'], '1m');

INSERT INTO trading.order_intents (intent_id, event_id, trace_id, bot_id, symbol, side, order_type, quantity, reason)
SELECT 'seed-' || g, gen_random_uuid(), md5(g::text), 'seed-bot', 'BTCUSDT',
       CASE WHEN g % 2 = 0 THEN 'BUY' ELSE 'SELL' END, 'MARKET', 0.001, 'seed'
FROM generate_series(1, :orders) AS g;

INSERT INTO trading.orders (client_order_id, exchange_order_id, bot_id, symbol, side, order_type, quantity,
                            executed_quantity, cumulative_quote_quantity, status)
SELECT 'seed-' || g, g, 'seed-bot', 'BTCUSDT', CASE WHEN g % 2 = 0 THEN 'BUY' ELSE 'SELL' END, 'MARKET',
       0.001, 0.001, 50.12, 'FILLED'
FROM generate_series(1, :orders) AS g;

INSERT INTO trading.trades (symbol, trade_id, client_order_id, exchange_order_id, bot_id, side, price, quantity,
                            quote_quantity, commission, commission_asset, is_maker, trade_time)
SELECT 'BTCUSDT', g, 'seed-' || (1 + g % :orders), 1 + g % :orders, 'seed-bot',
       CASE WHEN (1 + g % :orders) % 2 = 0 THEN 'BUY' ELSE 'SELL' END,
       50000 + (g % 1000) + 0.01, 0.001, 50.12, 0.00005, 'BNB', g % 3 = 0,
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second'
FROM generate_series(1, :trades) AS g;
