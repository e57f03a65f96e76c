import GordonDomain
@testable import BinanceSim

/// Decimal from a literal the test knows is valid.
func d(_ text: String) -> ExactDecimal { try! ExactDecimal(parsing: text) }

let btcusdt = try! Symbol("BTCUSDT")
let ethusdt = try! Symbol("ETHUSDT")

/// BTCUSDT with Binance-like filters: tick 0.01, step 0.00001, MARKET max 100, min notional 5.
/// Synthetic book: 5 levels of 0.5 BTC a side.
func btcSpec(levels: Int = 5) -> SimSymbolSpec {
    SimSymbolSpec(
        symbol: btcusdt, base: .btc, quote: .usdt,
        filters: ExchangeFilters(tickSize: d("0.01"), minPrice: d("0.01"), maxPrice: d("1000000"),
                                 stepSize: d("0.00001"), minQuantity: d("0.00001"), maxQuantity: d("9000"),
                                 marketStepSize: d("0.00001"), marketMaxQuantity: d("100"),
                                 minNotional: d("5"), maxNotional: d("9000000")),
        levelQuantity: d("0.5"), depthLevels: levels)
}

func ethSpec() -> SimSymbolSpec {
    SimSymbolSpec(symbol: ethusdt, base: .eth, quote: .usdt,
                  filters: ExchangeFilters(tickSize: d("0.01"), stepSize: d("0.0001"), minQuantity: d("0.0001"),
                                           minNotional: d("5")),
                  levelQuantity: d("2"), depthLevels: 5)
}

/// Maker 0.05%, taker 0.1%: different, so a test can tell which one was charged.
let testFees = FeeModel(makerRate: d("0.0005"), takerRate: d("0.001"))

/// 10 000 USDT and 1 BTC, last price 100.005: asks 100.01…100.05, bids 100.00…99.96.
func makeCore(usdt: String = "10000", btc: String = "1", levels: Int = 5, priced: Bool = true) -> SimExchangeCore {
    var core = SimExchangeCore(symbols: [btcSpec(levels: levels), ethSpec()], fees: testFees,
                               balances: [.usdt: d(usdt), .btc: d(btc)])
    if priced { _ = core.marketMoved(symbol: btcusdt, last: d("100.005"), low: d("100.005"), high: d("100.005"), now: 1) }
    return core
}

func market(_ side: Side, quantity: String? = nil, quote: String? = nil, id: String? = nil) -> SimOrderParams {
    SimOrderParams(symbol: btcusdt, side: side, type: .market, quantity: quantity.map(d), quoteOrderQty: quote.map(d),
                   newClientOrderId: id)
}

func limit(_ side: Side, _ quantity: String, at price: String, _ tif: TimeInForce? = .gtc, id: String? = nil) -> SimOrderParams {
    SimOrderParams(symbol: btcusdt, side: side, type: .limit, timeInForce: tif, quantity: d(quantity), price: d(price),
                   newClientOrderId: id)
}

func maker(_ side: Side, _ quantity: String, at price: String) -> SimOrderParams {
    SimOrderParams(symbol: btcusdt, side: side, type: .limitMaker, quantity: d(quantity), price: d(price))
}

extension SimExchangeCore {
    func balance(_ asset: Asset) -> SimBalance {
        balances().first { $0.asset == asset } ?? SimBalance(asset: asset, free: .zero, locked: .zero)
    }
}

/// The events as short labels: "NEW", "TRADE", "EXPIRED", "CANCELED", "POSITION", "LIST".
func labels(_ events: [SimEvent]) -> [String] {
    events.map { event in
        switch event {
        case .execution(_, let type, _, _): type.rawValue
        case .accountPosition: "POSITION"
        case .listStatus: "LIST"
        }
    }
}

/// The rejection `body` throws, or nil. (Closures infer untyped `throws`; the engine's
/// API throws only `SimRejection`, so any other error fails the comparison.)
func rejection(_ body: () throws -> Void) -> SimRejection? {
    do { try body() } catch { return error as? SimRejection ?? SimRejection(code: 0, message: "not a SimRejection: \(error)") }
    return nil
}
