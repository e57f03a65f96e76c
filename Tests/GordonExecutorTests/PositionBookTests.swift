import GordonDomain
import GordonExecutor
import GordonKernel
import Testing

/// Fills into a position, exactly: the numbers the executor writes to `trading.positions`.
@Suite("PositionBook: fills to positions")
struct PositionBookTests {
    static func fill(_ side: Side, _ price: String, _ quantity: String, commission: String = "0", asset: String = "USDT",
                     id: Int64 = 1) throws -> Fill {
        let price = try Price(parsing: price), quantity = try Quantity(parsing: quantity)
        return try Fill(tradeId: id, clientOrderId: ClientOrderId("c-\(id)"), exchangeOrderId: id, symbol: Symbol("BTCUSDT"), side: side,
                        price: price, quantity: quantity, quoteQuantity: price.value * quantity.value,
                        commission: ExactDecimal(parsing: commission), commissionAsset: Asset(asset), isMaker: false,
                        time: Timestamp(milliseconds: 1_704_067_200_000 + id))
    }

    @Test("two buys average their cost; a base commission shrinks what is held and raises the average")
    func buysAverage() throws {
        var book = PositionBook()
        try book.apply(Self.fill(.buy, "30000", "0.01"))
        try book.apply(Self.fill(.buy, "33000", "0.02", commission: "0.00002", asset: "BTC", id: 2))
        #expect(book.quantity == (try ExactDecimal(parsing: "0.02998")))
        // (300 + 660) / 0.02998 = 32021.347565043…, to 8 places
        #expect(book.averageEntryPrice == (try ExactDecimal(parsing: "32021.34756504")))
        #expect(book.realizedProfit == .zero)
    }

    @Test("a sell realises proceeds less its quote commission against the average cost; selling all leaves it flat")
    func sellRealises() throws {
        var book = PositionBook()
        try book.apply(Self.fill(.buy, "30000", "0.02"))
        try book.apply(Self.fill(.sell, "31000", "0.01", commission: "0.31", id: 2))
        #expect(book.quantity == (try ExactDecimal(parsing: "0.01")))
        #expect(book.realizedProfit == (try ExactDecimal(parsing: "9.69")))  // 310 − 0.31 − 300
        #expect(book.averageEntryPrice == (try ExactDecimal(parsing: "30000")))
        try book.apply(Self.fill(.sell, "29000", "0.01", id: 3))
        #expect(book.quantity == .zero && book.averageEntryPrice == .zero)
        #expect(book.realizedProfit == (try ExactDecimal(parsing: "-0.31")))  // 9.69 − 10
    }

    @Test("selling more than the book holds (a hand-placed position) leaves it flat, never negative")
    func neverNegative() throws {
        var book = PositionBook()
        try book.apply(Self.fill(.buy, "30000", "0.01"))
        try book.apply(Self.fill(.sell, "30000", "0.015", id: 2))
        #expect(book.quantity == .zero)
    }
}
