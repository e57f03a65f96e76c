public import GordonKernel
public import GordonDomain

extension SymbolInfo {
    /// The domain symbol (named `symbolValue` because `symbol` is the stored text), built from Binance's own `baseAsset`/`quoteAsset` so the split is
    /// never guessed; a `symbol` that is not their concatenation is malformed.
    public func symbolValue() throws(GordonError) -> Symbol {
        let base = try baseAssetValue
        let quote = try quoteAssetValue
        let value = try WireMapping.field("symbol") { () throws(GordonError) in try Symbol(base: base, quote: quote) }
        guard value.rawValue == symbol else {
            throw WireMapping.malformed("symbol \(symbol) is not baseAsset + quoteAsset (\(base)\(quote))", context: ["field": "symbol"])
        }
        return value
    }

    public var baseAssetValue: Asset {
        get throws(GordonError) { try WireMapping.field("baseAsset") { () throws(GordonError) in try Asset(baseAsset) } }
    }

    public var quoteAssetValue: Asset {
        get throws(GordonError) { try WireMapping.field("quoteAsset") { () throws(GordonError) in try Asset(quoteAsset) } }
    }

    /// The rules Gordon checks before sending an order: PRICE_FILTER, LOT_SIZE,
    /// MARKET_LOT_SIZE and the notional bound. A symbol carrying both the legacy
    /// MIN_NOTIONAL and NOTIONAL gets the stricter minimum. A filter type listed twice is
    /// malformed: which one Binance applies would be a guess.
    ///
    /// Not carried by `ExchangeFilters`: MARKET_LOT_SIZE's `minQty`, and the
    /// `applyToMarket` flags (the domain checks notional for market orders too, which can
    /// only refuse more than Binance would).
    public func exchangeFilters() throws(GordonError) -> ExchangeFilters {
        var result = ExchangeFilters()
        var seen: Set<String> = []
        for filter in filters {
            guard seen.insert(filter.filterType).inserted else {
                throw WireMapping.malformed("symbol \(symbol) lists filter \(filter.filterType) twice",
                                            context: ["symbol": symbol, "filter": filter.filterType])
            }
            switch filter {
            case .priceFilter(let minPrice, let maxPrice, let tickSize):
                result.minPrice = minPrice
                result.maxPrice = maxPrice
                result.tickSize = tickSize
            case .lotSize(let minQty, let maxQty, let stepSize):
                result.minQuantity = minQty
                result.maxQuantity = maxQty
                result.stepSize = stepSize
            case .marketLotSize(_, let maxQty, let stepSize):
                result.marketMaxQuantity = maxQty
                result.marketStepSize = stepSize
            case .minNotional(let minNotional, _, _):
                result.minNotional = max(result.minNotional ?? minNotional, minNotional)
            case .notional(let minNotional, _, let maxNotional, _, _):
                result.minNotional = max(result.minNotional ?? minNotional, minNotional)
                result.maxNotional = maxNotional
            case .percentPriceBySide, .other:
                break
            }
        }
        return result
    }

    /// The symbol's PERCENT_PRICE_BY_SIDE filter, if it has one.
    public var percentPriceBySide: PercentPriceBySide? {
        for case .percentPriceBySide(let bidUp, let bidDown, let askUp, let askDown, let avgPriceMins) in filters {
            return PercentPriceBySide(bidMultiplierUp: bidUp, bidMultiplierDown: bidDown,
                                      askMultiplierUp: askUp, askMultiplierDown: askDown, avgPriceMins: avgPriceMins)
        }
        return nil
    }
}
