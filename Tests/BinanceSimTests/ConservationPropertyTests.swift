import GordonKernel
import Testing
import GordonDomain
@testable import BinanceSim

@Suite("Balance conservation over random operations")
struct ConservationPropertyTests {
    static let startUSDT = d("5000")
    static let startBTC = d("20")

    /// Random prices on the tick grid around 100, quantities on the step grid.
    static func price(_ rng: inout SplitMix64, around center: Int = 10_000, spread: Int = 300) -> ExactDecimal {
        ExactDecimal(significand: Int128(center + Int.random(in: -spread...spread, using: &rng)), scale: 2)
    }

    static func quantity(_ rng: inout SplitMix64) -> ExactDecimal {
        ExactDecimal(significand: Int128(Int.random(in: 5_000...200_000, using: &rng)), scale: 5)
    }

    static func randomParams(_ rng: inout SplitMix64) -> SimOrderParams {
        let side: Side = Bool.random(using: &rng) ? .buy : .sell
        let quantity = quantity(&rng)
        switch Int.random(in: 0..<7, using: &rng) {
        case 0: return SimOrderParams(symbol: btcusdt, side: side, type: .market, quantity: quantity)
        case 1: return SimOrderParams(symbol: btcusdt, side: side, type: .market,
                                      quoteOrderQty: ExactDecimal(Int.random(in: 5...400, using: &rng)))
        case 2: return SimOrderParams(symbol: btcusdt, side: side, type: .limitMaker, quantity: quantity, price: price(&rng))
        default:
            let tif = [TimeInForce.gtc, .gtc, .ioc, .fok].randomElement(using: &rng)!
            return SimOrderParams(symbol: btcusdt, side: side, type: .limit, timeInForce: tif, quantity: quantity, price: price(&rng))
        }
    }

    /// An OCO around the last price: a LIMIT_MAKER on the profit side, a STOP_LOSS_LIMIT on the other.
    static func randomOCO(_ rng: inout SplitMix64, last: ExactDecimal) -> SimOCOParams {
        let side: Side = Bool.random(using: &rng) ? .buy : .sell
        func offset() -> ExactDecimal { ExactDecimal(significand: Int128(Int.random(in: 1...200, using: &rng)), scale: 2) }
        let sign = ExactDecimal(side == .sell ? 1 : -1)
        let profit = SimOCOParams.Leg(type: .limitMaker, price: last + sign * offset())
        let stop = last - sign * offset()
        let stopLeg = SimOCOParams.Leg(type: .stopLossLimit, price: stop - sign * offset(), stopPrice: stop, timeInForce: .gtc)
        return SimOCOParams(symbol: btcusdt, side: side, quantity: quantity(&rng),
                            above: side == .sell ? profit : stopLeg, below: side == .sell ? stopLeg : profit)
    }

    @Test("free + locked + commissions paid equals the start adjusted by trades; locks match open orders; nothing negative",
          arguments: [UInt64(1), 42, 20_260_101])
    func conservation(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var core = SimExchangeCore(symbols: [btcSpec()], fees: testFees, balances: [.usdt: Self.startUSDT, .btc: Self.startBTC])
        var now: Int64 = 1
        var accepted = 0
        var rejected = 0
        var placedLists = 0
        for _ in 0..<500 {
            now += 1
            switch Int.random(in: 0..<10, using: &rng) {
            case 0...2:
                let last = Self.price(&rng)
                let low = last - ExactDecimal(significand: Int128(Int.random(in: 0...150, using: &rng)), scale: 2)
                let high = last + ExactDecimal(significand: Int128(Int.random(in: 0...150, using: &rng)), scale: 2)
                _ = core.marketMoved(symbol: btcusdt, last: last, low: low, high: high, now: now)
            case 3:
                if let open = core.openOrders(symbol: btcusdt).randomElement(using: &rng) {
                    let (canceled, _) = try core.cancel(symbol: btcusdt, orderId: open.orderId, origClientOrderId: nil, now: now)
                    #expect(canceled.status == .canceled)
                }
            case 4:
                guard let last = core.lastPrice(btcusdt) else { continue }
                do {
                    _ = try core.placeOCO(Self.randomOCO(&rng, last: last), now: now)
                    placedLists += 1
                } catch {
                    rejected += 1
                }
            default:
                do {
                    _ = try core.place(Self.randomParams(&rng), now: now)
                    accepted += 1
                } catch {
                    rejected += 1
                }
            }
            try checkInvariants(core)
        }
        // The sequence exercised both paths, and something traded.
        #expect(accepted > 100)
        #expect(placedLists > 10)
        #expect(rejected > 0)
        // Some lists ended by a leg starting, not only by cancels.
        #expect(core.allOrderLists(fromId: nil, startTime: nil, endTime: nil, limit: 1000).contains { list in
            core.legs(of: list).contains { $0.status == .filled || $0.status == .partiallyFilled }
        })
        #expect(core.trades(symbol: btcusdt, orderId: nil, fromId: nil, limit: 10_000).count > 50)
    }

    private func checkInvariants(_ core: SimExchangeCore) throws {
        let trades = core.trades(symbol: btcusdt, orderId: nil, fromId: nil, limit: Int.max)
        var expectedBTC = Self.startBTC
        var expectedUSDT = Self.startUSDT
        var commissionBTC = ExactDecimal.zero
        var commissionUSDT = ExactDecimal.zero
        for fill in trades {
            switch fill.side {
            case .buy:
                expectedBTC += fill.quantity
                expectedUSDT -= fill.quoteQuantity
                commissionBTC += fill.commission
                #expect(fill.commissionAsset == .btc)
            case .sell:
                expectedBTC -= fill.quantity
                expectedUSDT += fill.quoteQuantity
                commissionUSDT += fill.commission
                #expect(fill.commissionAsset == .usdt)
            }
        }
        let btc = core.balance(.btc)
        let usdt = core.balance(.usdt)
        #expect(btc.free + btc.locked + commissionBTC == expectedBTC)
        #expect(usdt.free + usdt.locked + commissionUSDT == expectedUSDT)
        #expect(!btc.free.isNegative && !btc.locked.isNegative && !usdt.free.isNegative && !usdt.locked.isNegative)

        // Every lock belongs to an open order: BUY price × remaining quote, SELL remaining base;
        // an executing OCO's two legs hold one lock, the larger of theirs.
        var lockedBTC = ExactDecimal.zero
        var lockedUSDT = ExactDecimal.zero
        for order in core.openOrders(symbol: btcusdt) {
            #expect(order.type != .market)
            #expect(order.executedQty < order.origQty)
            if core.openOrderLists().contains(where: { $0.orderListId == order.orderListId }) { continue }
            if order.side == .buy { lockedUSDT += order.price * order.remainingQty } else { lockedBTC += order.remainingQty }
        }
        for list in core.openOrderLists() {
            let legs = core.legs(of: list)
            #expect(legs.count == 2 && legs.allSatisfy { $0.isOpen && $0.executedQty == .zero })
            if legs[0].side == .buy {
                lockedUSDT += legs.map { $0.price * $0.origQty }.max()!
            } else {
                lockedBTC += legs[0].origQty
            }
        }
        #expect(btc.locked == lockedBTC)
        #expect(usdt.locked == lockedUSDT)
    }
}
