public import GordonKernel

/// One asset's balance on the exchange account.
public struct Balance: Sendable, Hashable {
    public let asset: Asset
    /// Available to trade.
    public let free: ExactDecimal
    /// Reserved by open orders.
    public let locked: ExactDecimal

    /// Both amounts must be non-negative (`invalidDecimal`) and their sum representable.
    public init(asset: Asset, free: ExactDecimal, locked: ExactDecimal) throws(GordonError) {
        guard !free.isNegative, !locked.isNegative else {
            throw GordonError(.invalidDecimal, "balance amounts must not be negative",
                              context: ["asset": asset.rawValue, "free": free.description, "locked": locked.description])
        }
        // Checked here so that `total` can never trap.
        _ = try free.adding(locked)
        self.asset = asset
        self.free = free
        self.locked = locked
    }

    public var total: ExactDecimal { free + locked }
}

extension Balance: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let asset = try container.decode(Asset.self, forKey: .asset)
        let free = try container.decode(ExactDecimal.self, forKey: .free)
        let locked = try container.decode(ExactDecimal.self, forKey: .locked)
        self = try decoder.validated { () throws(GordonError) in try Balance(asset: asset, free: free, locked: locked) }
    }
}
