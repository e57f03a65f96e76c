public import GordonKernel
public import GordonDomain

/// GET /api/v3/account.
public struct AccountResponse: Codable, Sendable, Hashable {
    /// Legacy commission in basis points; `commissionRates` is the exact form.
    public var makerCommission: Int
    public var takerCommission: Int
    public var buyerCommission: Int
    public var sellerCommission: Int
    public var commissionRates: CommissionRates
    public var canTrade: Bool
    public var canWithdraw: Bool
    public var canDeposit: Bool
    public var brokered: Bool?
    public var requireSelfTradePrevention: Bool?
    public var preventSor: Bool?
    public var updateTime: Int64
    public var accountType: String
    public var balances: [AccountBalance]
    public var permissions: [String]
    public var uid: Int64?

    public init(makerCommission: Int, takerCommission: Int, buyerCommission: Int = 0, sellerCommission: Int = 0,
                commissionRates: CommissionRates, canTrade: Bool = true, canWithdraw: Bool = true, canDeposit: Bool = true,
                brokered: Bool? = false, requireSelfTradePrevention: Bool? = false, preventSor: Bool? = false,
                updateTime: Int64, accountType: String = "SPOT", balances: [AccountBalance], permissions: [String] = ["SPOT"],
                uid: Int64? = nil) {
        self.makerCommission = makerCommission
        self.takerCommission = takerCommission
        self.buyerCommission = buyerCommission
        self.sellerCommission = sellerCommission
        self.commissionRates = commissionRates
        self.canTrade = canTrade
        self.canWithdraw = canWithdraw
        self.canDeposit = canDeposit
        self.brokered = brokered
        self.requireSelfTradePrevention = requireSelfTradePrevention
        self.preventSor = preventSor
        self.updateTime = updateTime
        self.accountType = accountType
        self.balances = balances
        self.permissions = permissions
        self.uid = uid
    }
}

/// `commissionRates`: fractions of notional as decimal text (`"0.00150000"` = 0.15%).
public struct CommissionRates: Codable, Sendable, Hashable {
    public var maker: String
    public var taker: String
    public var buyer: String
    public var seller: String

    public init(maker: String, taker: String, buyer: String = "0.00000000", seller: String = "0.00000000") {
        self.maker = maker
        self.taker = taker
        self.buyer = buyer
        self.seller = seller
    }
}

/// One entry of `balances`.
public struct AccountBalance: Codable, Sendable, Hashable {
    public var asset: String
    public var free: String
    public var locked: String

    public init(asset: String, free: String, locked: String) {
        self.asset = asset
        self.free = free
        self.locked = locked
    }
}

extension AccountResponse {
    /// The account's maker and taker rates. Whether commission is paid in BNB is not in
    /// this response, so `payWithBNB` keeps its default (false); the buyer/seller extras
    /// are not modelled by `FeeModel`.
    public func feeModel() throws(GordonError) -> FeeModel {
        FeeModel(makerRate: try BinanceDecimal.parse(commissionRates.maker, field: "commissionRates.maker"),
                 takerRate: try BinanceDecimal.parse(commissionRates.taker, field: "commissionRates.taker"))
    }

    /// Every balance as a domain value, in Binance's order.
    public func domainBalances() throws(GordonError) -> [Balance] {
        var result: [Balance] = []
        result.reserveCapacity(balances.count)
        for entry in balances {
            let asset = try WireMapping.field("balances.asset") { () throws(GordonError) in try Asset(entry.asset) }
            let free = try BinanceDecimal.parse(entry.free, field: "balances.free")
            let locked = try BinanceDecimal.parse(entry.locked, field: "balances.locked")
            result.append(try WireMapping.value("balance of \(asset)") { () throws(GordonError) in
                try Balance(asset: asset, free: free, locked: locked)
            })
        }
        return result
    }
}
