import GordonDomain

/// Commission on one fill, charged in the asset the fill delivers (Binance's default when
/// BNB payment is off): the base asset on a BUY, the quote asset on a SELL.
enum SimCommission {
    /// Binance's `baseCommissionPrecision` / `quoteCommissionPrecision`.
    static let precision = 8

    /// `received × rate`, rounded UP to 8 decimals and never more than `received`.
    ///
    /// Up, because an exchange does not round a fee in the customer's favour, and a simulator
    /// should never make a strategy look better than the real venue would; the cap keeps a
    /// dust fill (whose exact fee is below 10^-8) from costing more than it delivers.
    /// `rate` is `FeeModel.rate(isMaker:)`: with `payWithBNB` that includes the BNB discount,
    /// but the fee is still taken from the received asset (no BNB conversion is simulated).
    static func charge(on received: ExactDecimal, rate: ExactDecimal) -> ExactDecimal {
        let exact = received * rate
        let rounded = (try? exact.rounded(scale: precision, rule: .towardPositiveInfinity)) ?? exact
        return min(rounded, received)
    }
}
