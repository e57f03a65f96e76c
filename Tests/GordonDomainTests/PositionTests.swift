import Foundation
import GordonDomain
import GordonKernel
import Testing

@Suite("Fill and Position accounting")
struct PositionTests {
    static func btcusdt() throws(GordonError) -> Symbol { try Symbol("BTCUSDT") }

    static func fill(
        _ side: Side, _ quantity: String, at price: String, quote: String? = nil,
        commission: String = "0", asset: Asset = .usdt, symbol: Symbol? = nil, tradeId: Int64 = 1
    ) throws(GordonError) -> Fill {
        let price = try Price(parsing: price), quantity = try Quantity(parsing: quantity)
        let symbol = if let symbol { symbol } else { try btcusdt() }
        let quoteQuantity = if let quote { try ExactDecimal(parsing: quote) } else { try price.notional(for: quantity) }
        return try Fill(
            tradeId: tradeId, clientOrderId: ClientOrderId("intent-1"), exchangeOrderId: 7, symbol: symbol, side: side,
            price: price, quantity: quantity, quoteQuantity: quoteQuantity, commission: ExactDecimal(parsing: commission),
            commissionAsset: asset, isMaker: false, time: Timestamp(milliseconds: 1_704_067_200_000))
    }

    // MARK: Fill validation

    @Test func fillValidation() throws {
        #expect(try Self.fill(.buy, "1", at: "100").quoteQuantity == 100)
        // (price, quantity, quote, commission, trade id)
        let cases: [(String, String, String, String, Int64)] = [
            ("0", "1", "0", "0", 1),
            ("100", "0", "0", "0", 1),
            ("100", "1", "-100", "0", 1),
            ("100", "1", "100", "-0.1", 1),
            ("100", "1", "100", "0", -1),
        ]
        for (price, quantity, quote, commission, tradeId) in cases {
            let code = thrownCode { () throws(GordonError) in
                try Self.fill(.buy, quantity, at: price, quote: quote, commission: commission, tradeId: tradeId)
            }
            #expect(code == .invalidFill, "\(price) \(quantity) \(quote) \(commission) \(tradeId)")
        }
    }

    @Test func fillRoundTripsThroughJSON() throws {
        let fill = try Self.fill(.sell, "0.5", at: "27000.5", commission: "0.01", asset: .bnb)
        let data = try JSONEncoder().encode(fill)
        #expect(try JSONDecoder().decode(Fill.self, from: data) == fill)
        let broken = String(decoding: data, as: UTF8.self).replacingOccurrences(of: #""quantity":"0.5""#, with: #""quantity":"0""#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Fill.self, from: Data(broken.utf8)) }
    }

    // MARK: Position

    @Test func averageCostAndRealizedPnl() throws {
        var position = Position(symbol: try Self.btcusdt())
        #expect(position.isFlat)
        try position.apply(Self.fill(.buy, "1", at: "100"))
        try position.apply(Self.fill(.buy, "1", at: "200"))
        #expect(position.quantity == (try qty("2")))
        #expect(position.averageEntryPrice == (try price("150")))
        #expect(position.costBasis == 300)

        try position.apply(Self.fill(.sell, "0.5", at: "300"))
        #expect(position.quantity == (try qty("1.5")))
        #expect(position.realizedPnl == 75)
        #expect(position.averageEntryPrice == (try price("150")))

        try position.apply(Self.fill(.sell, "1.5", at: "100"))
        #expect(position.isFlat)
        #expect(position.realizedPnl == 0)
        #expect(position.costBasis == 0)
        #expect(position.averageEntryPrice == .zero)
    }

    @Test func quoteCommissionIsPartOfCostAndProceeds() throws {
        var position = Position(symbol: try Self.btcusdt())
        try position.apply(Self.fill(.buy, "1", at: "100", commission: "0.1", asset: .usdt))
        #expect(position.averageEntryPrice == (try price("100.1")))
        try position.apply(Self.fill(.sell, "1", at: "110", commission: "0.11", asset: .usdt))
        #expect(position.realizedPnl == (try dec("9.79")))
    }

    @Test func baseCommissionReducesWhatIsHeld() throws {
        var position = Position(symbol: try Self.btcusdt())
        try position.apply(Self.fill(.buy, "1", at: "100", commission: "0.001", asset: .btc))
        #expect(position.quantity == (try qty("0.999")))
        #expect(position.costBasis == 100)
        // 100 / 0.999 = 100.100100…, half-even at 16 places.
        #expect(position.averageEntryPrice == (try price("100.1001001001001001")))
        // Selling the full bought quantity would exceed what the fee left.
        #expect(thrownCode { () throws(GordonError) in try position.apply(Self.fill(.sell, "1", at: "100")) } == .positionConflict)
        try position.apply(Self.fill(.sell, "0.999", at: "110"))
        #expect(position.isFlat)
        #expect(position.realizedPnl == (try dec("9.89")))
    }

    @Test func thirdAssetCommissionIsIgnored() throws {
        var position = Position(symbol: try Self.btcusdt())
        try position.apply(Self.fill(.buy, "1", at: "100", commission: "0.0001", asset: .bnb))
        #expect(position.quantity == (try qty("1")))
        #expect(position.costBasis == 100)
    }

    @Test func partialSellsLeaveNoDustWhenFlat() throws {
        var position = Position(symbol: try Self.btcusdt())
        try position.apply(Self.fill(.buy, "3", at: "3.33333333", quote: "10"))
        for tradeId: Int64 in 2...4 {
            try position.apply(Self.fill(.sell, "1", at: "4", tradeId: tradeId))
        }
        #expect(position.isFlat)
        #expect(position.costBasis == 0)
        #expect(position.realizedPnl == 2)
    }

    @Test func refusesWhatSpotCannotDoAndStaysUnchanged() throws {
        var position = Position(symbol: try Self.btcusdt())
        try position.apply(Self.fill(.buy, "1", at: "100"))
        let before = position
        let oversell = thrownError { () throws(GordonError) in try position.apply(Self.fill(.sell, "1.00000001", at: "100")) }
        #expect(oversell?.code == .positionConflict)
        #expect(oversell?.kind == .conflict)
        #expect(position == before)
        let ethbtc = try Symbol("ETHBTC")
        #expect(thrownCode { () throws(GordonError) in try position.apply(Self.fill(.buy, "1", at: "0.05", asset: .btc, symbol: ethbtc)) } == .positionConflict)
        #expect(position == before)
        var flat = Position(symbol: try Self.btcusdt())
        #expect(thrownCode { () throws(GordonError) in try flat.apply(Self.fill(.sell, "0.1", at: "100")) } == .positionConflict)
        #expect(thrownCode { () throws(GordonError) in try flat.apply(Self.fill(.buy, "0.1", at: "100", commission: "0.1", asset: .btc)) } == .invalidFill)
        #expect(flat.isFlat)
    }

    @Test func unknownQuoteNeedsCommissionFreeFills() throws {
        let symbol = try Symbol("ABCXYZ")
        var position = Position(symbol: symbol)
        try position.apply(Self.fill(.buy, "2", at: "1.5", commission: "0", asset: try Asset("XYZ"), symbol: symbol))
        #expect(position.quantity == (try qty("2")))
        #expect(thrownCode { () throws(GordonError) in
            try position.apply(Self.fill(.buy, "1", at: "1.5", commission: "0.01", asset: try Asset("ABC"), symbol: symbol))
        } == .positionConflict)
    }

    @Test func restoringValidates() throws {
        let restored = try Position(symbol: try Self.btcusdt(), quantity: qty("2"), averageEntryPrice: price("150"), realizedPnl: dec("-3.5"))
        #expect(restored.costBasis == 300)
        #expect(restored.realizedPnl == (try dec("-3.5")))
        #expect(thrownCode { () throws(GordonError) in try Position(symbol: try Self.btcusdt(), quantity: .zero, costBasis: 5, realizedPnl: 0) } == .positionConflict)
        #expect(thrownCode { () throws(GordonError) in try Position(symbol: try Self.btcusdt(), quantity: qty("1"), costBasis: -5, realizedPnl: 0) } == .positionConflict)

        let data = try JSONEncoder().encode(restored)
        #expect(String(decoding: data, as: UTF8.self).contains(#""averageEntryPrice":"150""#))
        #expect(try JSONDecoder().decode(Position.self, from: data) == restored)
        let broken = String(decoding: data, as: UTF8.self).replacingOccurrences(of: #""quantity":"2""#, with: #""quantity":"0""#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Position.self, from: Data(broken.utf8)) }
    }

    /// Whatever the path, once flat the realized PnL is exactly proceeds minus costs.
    @Test func randomRoundTripsRealizeExactly() throws {
        var generator = SplitMix64(seed: 0xF111)
        for _ in 0..<200 {
            var position = Position(symbol: try Self.btcusdt())
            var spent = ExactDecimal.zero, received = ExactDecimal.zero
            var tradeId: Int64 = 0
            for _ in 0..<Int.random(in: 1...5, using: &generator) {
                tradeId += 1
                let quantity = ExactDecimal(significand: Int128(Int.random(in: 1...100_000_000, using: &generator)), scale: 8)
                let fillPrice = ExactDecimal(significand: Int128(Int.random(in: 1...10_000_000, using: &generator)), scale: 2)
                let buy = try Self.fill(.buy, quantity.description, at: fillPrice.description, tradeId: tradeId)
                try position.apply(buy)
                spent += buy.quoteQuantity
            }
            while !position.isFlat {
                tradeId += 1
                let held = position.quantity.value
                let part = try held.divided(by: ExactDecimal(Int.random(in: 1...3, using: &generator)), scale: 8, rounding: .up)
                let quantity = part > held || part.isZero ? held : part
                let fillPrice = ExactDecimal(significand: Int128(Int.random(in: 1...10_000_000, using: &generator)), scale: 2)
                let sell = try Self.fill(.sell, quantity.description, at: fillPrice.description, tradeId: tradeId)
                try position.apply(sell)
                received += sell.quoteQuantity
            }
            #expect(position.realizedPnl == received - spent)
            #expect(position.costBasis == 0)
        }
    }
}
