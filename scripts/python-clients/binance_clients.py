"""Binance's Python SDK (binance-connector) and ccxt against BinanceSim, unchanged but for
the base URL: every call a trading tool makes on a spot account, checked for the answer a
tool relies on. Prints one line per check and exits non-zero on the first failure.

Usage: binance_clients.py --base-url http://127.0.0.1:PORT --api-key KEY --api-secret SECRET [--symbol BTCUSDT]
"""
import argparse
import decimal
import sys


def check(name, condition, detail=""):
    if not condition:
        print(f"FAIL {name}: {detail}")
        sys.exit(1)
    print(f"ok   {name}")


def tick_floor(value, tick):
    value, tick = decimal.Decimal(value), decimal.Decimal(tick)
    return str((value / tick).to_integral_value(rounding=decimal.ROUND_DOWN) * tick)


def connector(base_url, key, secret, symbol):
    from binance.spot import Spot
    from binance.error import ClientError

    client = Spot(api_key=key, api_secret=secret, base_url=base_url)
    check("connector ping", client.ping() == {})
    check("connector time", client.time()["serverTime"] > 0)
    info = client.exchange_info(symbol=symbol)
    check("connector exchangeInfo", info["symbols"][0]["symbol"] == symbol)
    filters = {f["filterType"]: f for f in info["symbols"][0]["filters"]}
    tick = filters["PRICE_FILTER"]["tickSize"]
    check("connector klines", len(client.klines(symbol, "1m", limit=5)) == 5)
    last = client.ticker_price(symbol)["price"]
    check("connector ticker/price", decimal.Decimal(last) > 0)
    check("connector ticker/price all", any(t["symbol"] == symbol for t in client.ticker_price()))
    book = client.book_ticker(symbol)
    check("connector bookTicker", decimal.Decimal(book["bidPrice"]) < decimal.Decimal(book["askPrice"]), book)
    check("connector avgPrice", decimal.Decimal(client.avg_price(symbol)["price"]) > 0)
    ticker = client.ticker_24hr(symbol)
    check("connector ticker/24hr", ticker["symbol"] == symbol and ticker["lastPrice"] == last, ticker)
    depth = client.depth(symbol, limit=5)
    check("connector depth", len(depth["bids"]) == 5 and len(depth["asks"]) == 5)
    if client.get_open_orders(symbol):  # a clean book for the counts below
        client.cancel_open_orders(symbol)
    balances = {b["asset"]: b for b in client.account()["balances"]}
    check("connector account", decimal.Decimal(balances["USDT"]["free"]) > 0)

    filled = client.new_order(symbol=symbol, side="BUY", type="MARKET", quantity="0.01")
    check("connector MARKET order", filled["status"] == "FILLED", filled)
    low = tick_floor(decimal.Decimal(last) * decimal.Decimal("0.8"), tick)
    resting = client.new_order(symbol=symbol, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.01", price=low)
    check("connector LIMIT order", resting["status"] == "NEW", resting)
    stop = tick_floor(decimal.Decimal(last) * decimal.Decimal("0.9"), tick)
    protective = client.new_order(symbol=symbol, side="SELL", type="STOP_LOSS_LIMIT", timeInForce="GTC", quantity="0.005",
                                  price=tick_floor(decimal.Decimal(stop) * decimal.Decimal("0.99"), tick), stopPrice=stop)
    # Not MARKET or LIMIT: the reply defaults to ACK, which has no status (rest-api.md).
    check("connector STOP_LOSS_LIMIT order", "status" not in protective
          and client.get_order(symbol, orderId=protective["orderId"])["isWorking"] is False, protective)
    check("connector order/test", client.new_order_test(symbol=symbol, side="BUY", type="MARKET", quantity="0.01") == {})
    queried = client.get_order(symbol, orderId=resting["orderId"])
    check("connector query order", queried["status"] == "NEW" and queried["price"] == resting["price"], queried)
    check("connector openOrders", len(client.get_open_orders(symbol)) == 2)
    check("connector allOrders", [o["orderId"] for o in client.get_orders(symbol)][-3:]
          == [filled["orderId"], resting["orderId"], protective["orderId"]])
    try:
        client.new_order(symbol=symbol, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.01", price=low,
                         newClientOrderId=resting["clientOrderId"])
        check("connector duplicate id refused", False, "accepted")
    except ClientError as error:
        check("connector duplicate id refused", error.error_code == -2010 and "Duplicate" in error.error_message, error)
    canceled = client.cancel_open_orders(symbol)
    check("connector DELETE openOrders", sorted(o["status"] for o in canceled) == ["CANCELED", "CANCELED"], canceled)
    check("connector no open orders", client.get_open_orders(symbol) == [])

    # An OCO protecting the position: a take-profit LIMIT_MAKER above, a stop-loss below.
    def locked_base():
        return decimal.Decimal(next(b for b in client.account()["balances"] if b["asset"] == "BTC")["locked"])
    locked_before = locked_base()
    stop = tick_floor(decimal.Decimal(last) * decimal.Decimal("0.9"), tick)
    oco = client.new_oco_order(symbol=symbol, side="SELL", quantity="0.005",
                               aboveType="LIMIT_MAKER", abovePrice=tick_floor(decimal.Decimal(last) * decimal.Decimal("1.1"), tick),
                               belowType="STOP_LOSS_LIMIT", belowStopPrice=stop, belowTimeInForce="GTC",
                               belowPrice=tick_floor(decimal.Decimal(stop) * decimal.Decimal("0.99"), tick))
    check("connector OCO placed", oco["contingencyType"] == "OCO" and oco["listOrderStatus"] == "EXECUTING"
          and [r["type"] for r in oco["orderReports"]] == ["STOP_LOSS_LIMIT", "LIMIT_MAKER"]
          and all(r["orderListId"] == oco["orderListId"] for r in oco["orderReports"]), oco)
    check("connector OCO locks its quantity once", locked_base() - locked_before == decimal.Decimal("0.005"))
    check("connector orderList", client.get_oco_order(orderListId=oco["orderListId"])["listClientOrderId"]
          == oco["listClientOrderId"])
    check("connector openOrderList", [l["orderListId"] for l in client.get_oco_open_orders()] == [oco["orderListId"]])
    canceled_list = client.cancel_oco_order(symbol, orderListId=oco["orderListId"])
    check("connector cancel orderList", canceled_list["listOrderStatus"] == "ALL_DONE"
          and [r["status"] for r in canceled_list["orderReports"]] == ["CANCELED", "CANCELED"], canceled_list)
    check("connector OCO lock released", locked_base() == locked_before)
    check("connector allOrderList", client.get_oco_orders()[0]["orderListId"] == oco["orderListId"])
    check("connector openOrderList empty", client.get_oco_open_orders() == [])

    trades = client.trades(symbol, limit=3)
    check("connector trades", len(trades) == 3 and trades[0]["id"] < trades[2]["id"], trades)
    aggregates = client.agg_trades(symbol, fromId=trades[1]["id"], limit=2)
    check("connector aggTrades", [a["a"] for a in aggregates] == [trades[1]["id"], trades[2]["id"]], aggregates)
    trades = client.my_trades(symbol)
    check("connector myTrades", any(t["orderId"] == filled["orderId"] for t in trades))
    limits = client.get_order_rate_limit()
    check("connector rateLimit/order", all(l["rateLimitType"] == "ORDERS" for l in limits) and len(limits) >= 1, limits)
    commission = client.query_commission_rates(symbol)
    check("connector account/commission", decimal.Decimal(commission["standardCommission"]["taker"]) >= 0, commission)
    try:
        client.get_order(symbol, orderId=999999)
        check("connector unknown order", False, "found")
    except ClientError as error:
        check("connector unknown order", error.error_code == -2013, error)


def ccxt_client(base_url, key, secret, symbol):
    import ccxt

    exchange = ccxt.binance({
        "apiKey": key, "secret": secret, "enableRateLimit": False,
        "options": {"defaultType": "spot", "fetchMarkets": ["spot"], "fetchCurrencies": False, "fetchMargins": False,
                    "adjustForTimeDifference": False, "warnOnFetchOpenOrdersWithoutSymbol": False},
    })
    for api in ("public", "private", "v3"):
        if api in exchange.urls["api"]:
            exchange.urls["api"][api] = base_url + "/api/v3"
    exchange.urls["api"]["v1"] = base_url + "/api/v1"
    markets = exchange.load_markets()
    pair = next(m for m in markets.values() if m["id"] == symbol)["symbol"]
    check("ccxt load_markets", pair in markets)
    ticker = exchange.fetch_ticker(pair)
    check("ccxt fetch_ticker", ticker["last"] and ticker["last"] > 0, ticker)
    book = exchange.fetch_order_book(pair, limit=5)
    check("ccxt fetch_order_book", book["bids"][0][0] < book["asks"][0][0], book)
    check("ccxt fetch_ohlcv", len(exchange.fetch_ohlcv(pair, "1m", limit=5)) == 5)
    balance = exchange.fetch_balance()
    check("ccxt fetch_balance", balance["USDT"]["free"] > 0, balance.get("USDT"))
    order = exchange.create_order(pair, "market", "buy", 0.01)
    check("ccxt create market order", order["status"] == "closed", order)
    low = float(tick_floor(decimal.Decimal(str(ticker["last"])) * decimal.Decimal("0.8"),
                           markets[pair]["info"]["filters"][0]["tickSize"]))
    resting = exchange.create_order(pair, "limit", "buy", 0.01, low)
    check("ccxt create limit order", resting["status"] == "open", resting)
    check("ccxt fetch_open_orders", [o["id"] for o in exchange.fetch_open_orders(pair)] == [resting["id"]])
    check("ccxt fetch_order", exchange.fetch_order(resting["id"], pair)["status"] == "open")
    canceled = exchange.cancel_order(resting["id"], pair)
    check("ccxt cancel_order", canceled["status"] == "canceled", canceled)
    check("ccxt fetch_my_trades", any(t["order"] == order["id"] for t in exchange.fetch_my_trades(pair)))
    public = exchange.fetch_trades(pair, limit=3)
    check("ccxt fetch_trades", len(public) == 3 and all(t["price"] > 0 for t in public), public)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--api-secret", required=True)
    parser.add_argument("--symbol", default="BTCUSDT")
    parser.add_argument("--only", choices=["connector", "ccxt"])
    args = parser.parse_args()
    if args.only in (None, "connector"):
        connector(args.base_url, args.api_key, args.api_secret, args.symbol)
    if args.only in (None, "ccxt"):
        ccxt_client(args.base_url, args.api_key, args.api_secret, args.symbol)
    print("all checks passed")


if __name__ == "__main__":
    main()
