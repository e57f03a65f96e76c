public import GordonDomain
public import GordonKernel
import NIOConcurrencyHelpers

/// The last price and the free balances the intake's checks need, without two exchange
/// requests per intent: the account costs weight 20, and at a burst of intents it would use
/// up the request-weight budget the orders themselves need. A price is refreshed when older
/// than `priceMaxAge`, the balances when older than `balanceMaxAge`; when a refresh fails, a
/// value younger than `staleLimit` is used (the exchange still refuses an order the account
/// cannot pay for), and with nothing that fresh the failure is the caller's (the intent is
/// retried).
public final class MarketSnapshot: Sendable {
    public struct Configuration: Sendable {
        public var priceMaxAge: Duration = .seconds(1)
        public var balanceMaxAge: Duration = .seconds(2)
        public var staleLimit: Duration = .seconds(60)
        public init() {}
    }

    let configuration: Configuration
    let fetchPrice: @Sendable (Symbol) async throws(GordonError) -> Price
    let fetchBalances: @Sendable () async throws(GordonError) -> [Asset: ExactDecimal]
    private let prices = NIOLockedValueBox<[Symbol: (Price, ContinuousClock.Instant)]>([:])
    private let balances = NIOLockedValueBox<([Asset: ExactDecimal], ContinuousClock.Instant)?>(nil)

    public init(configuration: Configuration = Configuration(),
                price: @escaping @Sendable (Symbol) async throws(GordonError) -> Price,
                balances: @escaping @Sendable () async throws(GordonError) -> [Asset: ExactDecimal]) {
        self.configuration = configuration
        self.fetchPrice = price
        self.fetchBalances = balances
    }

    /// An order executed: the balances it changed are read again before the next check.
    public func balancesChanged() { balances.withLockedValue { $0 = nil } }

    public func snapshot(_ symbol: Symbol) async throws(GordonError) -> (lastPrice: Price, free: [Asset: ExactDecimal]) {
        let now = ContinuousClock.now
        let price = try await fresh(prices.withLockedValue { $0[symbol] }, maxAge: configuration.priceMaxAge, now: now) {
            () async throws(GordonError) in try await fetchPrice(symbol)
        } store: { value in self.prices.withLockedValue { $0[symbol] = (value, now) } }
        let free = try await fresh(balances.withLockedValue { $0 }, maxAge: configuration.balanceMaxAge, now: now) {
            () async throws(GordonError) in try await fetchBalances()
        } store: { value in self.balances.withLockedValue { $0 = (value, now) } }
        return (price, free)
    }

    private func fresh<Value>(_ cached: (Value, ContinuousClock.Instant)?, maxAge: Duration, now: ContinuousClock.Instant,
                              fetch: () async throws(GordonError) -> Value, store: (Value) -> Void) async throws(GordonError) -> Value {
        if let (value, at) = cached, now - at < maxAge { return value }
        do {
            let value = try await fetch()
            store(value)
            return value
        } catch {
            guard let (value, at) = cached, now - at < configuration.staleLimit else { throw error }
            return value
        }
    }
}
