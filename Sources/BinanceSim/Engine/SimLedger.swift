import GordonDomain

/// The account's balances: per asset what is free and what open orders have locked.
///
/// Every mutation states which part it moves, and a move that would take either part below
/// zero traps: the engine checks funds before it changes anything, so a trap here is a bug in
/// the engine, never a customer's mistake (Binance balances never go negative either).
/// Assets whose amounts differ from before the last `drainChanges()` feed outboundAccountPosition
/// (a lock released in the same step, as a FOK that expires, is no change).
struct SimLedger: Sendable {
    private struct Holding: Sendable, Equatable {
        var free: ExactDecimal = .zero
        var locked: ExactDecimal = .zero
    }

    private var holdings: [Asset: Holding] = [:]
    /// Each asset touched since the last drain, with its amounts before the first touch.
    private var before: [Asset: Holding] = [:]

    init(starting balances: [Asset: ExactDecimal], listing assets: some Sequence<Asset>) {
        for asset in assets { holdings[asset] = Holding() }
        for (asset, amount) in balances {
            precondition(!amount.isNegative, "a starting balance must not be negative")
            holdings[asset] = Holding(free: amount)
        }
    }

    func free(_ asset: Asset) -> ExactDecimal { holdings[asset]?.free ?? .zero }
    func locked(_ asset: Asset) -> ExactDecimal { holdings[asset]?.locked ?? .zero }

    /// free → locked, when an order starts resting.
    mutating func lock(_ amount: ExactDecimal, of asset: Asset) {
        update(asset) { $0.free -= amount; $0.locked += amount }
    }

    /// locked → free, when a resting order is canceled or expires.
    mutating func release(_ amount: ExactDecimal, of asset: Asset) {
        update(asset) { $0.locked -= amount; $0.free += amount }
    }

    /// Leaves the account from the free part (a taker payment without a lock).
    mutating func debitFree(_ amount: ExactDecimal, of asset: Asset) {
        update(asset) { $0.free -= amount }
    }

    /// Leaves the account from the locked part (a fill of a resting order).
    mutating func debitLocked(_ amount: ExactDecimal, of asset: Asset) {
        update(asset) { $0.locked -= amount }
    }

    mutating func creditFree(_ amount: ExactDecimal, of asset: Asset) {
        update(asset) { $0.free += amount }
    }

    /// Every asset, sorted.
    var all: [SimBalance] {
        holdings.keys.sorted().map { SimBalance(asset: $0, free: holdings[$0]!.free, locked: holdings[$0]!.locked) }
    }

    /// The balances changed since the last call, sorted by asset; empty when none did.
    mutating func drainChanges() -> [SimBalance] {
        defer { before.removeAll() }
        return before.filter { holdings[$0.key] != $0.value }.keys.sorted()
            .map { SimBalance(asset: $0, free: free($0), locked: locked($0)) }
    }

    private mutating func update(_ asset: Asset, _ change: (inout Holding) -> Void) {
        var holding = holdings[asset] ?? Holding()
        if before[asset] == nil { before[asset] = holding }
        change(&holding)
        precondition(!holding.free.isNegative && !holding.locked.isNegative,
                     "\(asset) balance would go negative: free \(holding.free), locked \(holding.locked)")
        holdings[asset] = holding
    }
}
