import GordonKernel
import GordonDomain

extension SimExchangeCore {
    /// A client order id for an order sent without one: 22 characters of [0-9A-Za-z], as
    /// Binance's generated ids look (e.g. "6gCrw2kRUAF9CvJDGP16IP"). Deterministic (a counter
    /// through a SplitMix64 mix) so that runs replay; one that happens to equal an open
    /// order's id is skipped.
    mutating func generateClientOrderId(in market: SymbolMarket) -> String {
        nextGeneratedId { id in market.orderIdByClientId[id].flatMap { market.orders[$0] }?.isOpen ?? false }
    }

    /// The same for an order list sent without `listClientOrderId`; one equal to an
    /// executing list's id is skipped.
    mutating func generateListClientOrderId() -> String {
        let lists = orderLists
        let byClientId = orderListIdByClientId
        return nextGeneratedId { id in byClientId[id].flatMap { lists[$0] }.map { !$0.isDone } ?? false }
    }

    private mutating func nextGeneratedId(isTaken: (String) -> Bool) -> String {
        while true {
            generatedClientIds += 1
            let id = Self.base62(Self.mix(generatedClientIds)) + Self.base62(Self.mix(~generatedClientIds))
            if !isTaken(id) { return id }
        }
    }

    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// 11 base-62 digits: 62^11 > 2^64, so every value has a distinct fixed-width form.
    private static func base62(_ value: UInt64) -> String {
        var value = value
        var digits: [Character] = []
        for _ in 0..<11 {
            digits.append(alphabet[Int(value % 62)])
            value /= 62
        }
        return String(digits)
    }

    /// SplitMix64's first output for seed `value`: a bijection, so distinct counters give distinct ids.
    private static func mix(_ value: UInt64) -> UInt64 {
        var generator = SplitMix64(seed: value)
        return generator.next()
    }
}
