/// The REST endpoints the simulator serves, with Binance's request weights and security
/// (rest-api.md): NONE, USER_STREAM (API key only) or TRADE/USER_DATA (signed).
enum SimEndpoint: Equatable {
    case ping, time, exchangeInfo, klines, tickerPrice, depth, bookTicker, avgPrice, ticker24hr
    case account, openOrders, newOrder, testOrder, queryOrder, cancelOrder, myTrades
    case allOrders, cancelOpenOrders, commission, orderRateLimit
    case trades, aggTrades
    case newOCO, cancelOrderList, queryOrderList, allOrderLists, openOrderLists
    case createListenKey, keepAliveListenKey, closeListenKey

    enum Security { case none, apiKey, signed }

    static func find(method: String, path: String) -> SimEndpoint? {
        switch (method, path) {
        case ("GET", "/api/v3/ping"): .ping
        case ("GET", "/api/v3/time"): .time
        case ("GET", "/api/v3/exchangeInfo"): .exchangeInfo
        case ("GET", "/api/v3/klines"): .klines
        case ("GET", "/api/v3/ticker/price"): .tickerPrice
        case ("GET", "/api/v3/depth"): .depth
        case ("GET", "/api/v3/ticker/bookTicker"): .bookTicker
        case ("GET", "/api/v3/avgPrice"): .avgPrice
        case ("GET", "/api/v3/ticker/24hr"): .ticker24hr
        case ("GET", "/api/v3/trades"): .trades
        case ("GET", "/api/v3/aggTrades"): .aggTrades
        case ("POST", "/api/v3/orderList/oco"): .newOCO
        case ("DELETE", "/api/v3/orderList"): .cancelOrderList
        case ("GET", "/api/v3/orderList"): .queryOrderList
        case ("GET", "/api/v3/allOrderList"): .allOrderLists
        case ("GET", "/api/v3/openOrderList"): .openOrderLists
        case ("GET", "/api/v3/allOrders"): .allOrders
        case ("DELETE", "/api/v3/openOrders"): .cancelOpenOrders
        case ("GET", "/api/v3/account/commission"): .commission
        case ("GET", "/api/v3/rateLimit/order"): .orderRateLimit
        case ("GET", "/api/v3/account"): .account
        case ("GET", "/api/v3/openOrders"): .openOrders
        case ("POST", "/api/v3/order"): .newOrder
        case ("POST", "/api/v3/order/test"): .testOrder
        case ("GET", "/api/v3/order"): .queryOrder
        case ("DELETE", "/api/v3/order"): .cancelOrder
        case ("GET", "/api/v3/myTrades"): .myTrades
        case ("POST", "/api/v3/userDataStream"): .createListenKey
        case ("PUT", "/api/v3/userDataStream"): .keepAliveListenKey
        case ("DELETE", "/api/v3/userDataStream"): .closeListenKey
        default: nil
        }
    }

    var security: Security {
        switch self {
        case .ping, .time, .exchangeInfo, .klines, .tickerPrice, .depth, .bookTicker, .avgPrice, .ticker24hr, .trades, .aggTrades: .none
        case .createListenKey, .keepAliveListenKey, .closeListenKey: .apiKey
        case .account, .openOrders, .newOrder, .testOrder, .queryOrder, .cancelOrder, .myTrades,
             .allOrders, .cancelOpenOrders, .commission, .orderRateLimit, .newOCO, .cancelOrderList, .queryOrderList,
             .allOrderLists, .openOrderLists: .signed
        }
    }

    /// Counts toward the ORDERS limits (an OCO counts once here; Binance counts its two orders).
    var isOrder: Bool { self == .newOrder || self == .newOCO }

    func weight(_ p: SimParameters) -> Int {
        switch self {
        case .ping, .time, .newOrder, .testOrder, .cancelOrder, .cancelOpenOrders, .newOCO, .cancelOrderList: 1
        case .aggTrades, .queryOrderList: 4
        case .trades: 25
        case .allOrderLists: 20
        case .openOrderLists: 6
        case .avgPrice: 2
        case .bookTicker: p["symbol"] == nil ? 4 : 2
        case .ticker24hr: p["symbol"] == nil ? 80 : 2
        case .allOrders, .commission: 20
        case .orderRateLimit: 40
        case .exchangeInfo, .account: 20
        case .klines, .createListenKey, .keepAliveListenKey, .closeListenKey: 2
        case .tickerPrice: p["symbol"] == nil ? 4 : 2
        case .depth:
            switch Int(p["limit"] ?? "100") ?? 100 { case ...100: 5; case ...500: 25; case ...1000: 50; default: 250 }
        case .openOrders: p["symbol"] == nil ? 80 : 6
        case .queryOrder: 4
        case .myTrades: p["orderId"] == nil ? 20 : 5
        }
    }
}
