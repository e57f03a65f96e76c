import Foundation
import GordonDomain
import GordonExchange
import GordonKernel
import Testing

@Suite("exchangeInfo symbols and filters")
struct SymbolFilterTests {
    private func documentedSymbol() throws -> SymbolInfo {
        let info = try BinanceJSON.decode(ExchangeInfoResponse.self, from: try Fixtures.bytes("rest-exchangeInfo.json"), endpoint: "/api/v3/exchangeInfo")
        return try #require(info.symbols.first)
    }

    @Test func documentedFiltersMapToExchangeFiltersExactly() throws {
        let filters = try documentedSymbol().exchangeFilters()
        #expect(filters == ExchangeFilters(
            tickSize: dec("0.000001"), minPrice: dec("0.000001"), maxPrice: dec("100000"),
            stepSize: dec("0.001"), minQuantity: dec("0.001"), maxQuantity: dec("100000"),
            marketStepSize: dec("0.001"), marketMaxQuantity: dec("100000"),
            // Both MIN_NOTIONAL (0.001) and NOTIONAL (10) are listed: the stricter minimum wins.
            minNotional: dec("10"), maxNotional: dec("10000")))
    }

    @Test func documentedFiltersDecodeToTheirCases() throws {
        let filters = try documentedSymbol().filters
        #expect(filters.map(\.filterType) == [
            "PRICE_FILTER", "PERCENT_PRICE", "PERCENT_PRICE_BY_SIDE", "LOT_SIZE", "MIN_NOTIONAL", "NOTIONAL", "ICEBERG_PARTS",
            "MARKET_LOT_SIZE", "MAX_NUM_ORDERS", "MAX_NUM_ALGO_ORDERS", "MAX_NUM_ICEBERG_ORDERS", "MAX_POSITION", "TRAILING_DELTA",
            "MAX_NUM_ORDER_AMENDS", "MAX_NUM_ORDER_LISTS",
        ])
        #expect(filters[1] == .other(filterType: "PERCENT_PRICE", fields: ["multiplierUp": "1.3000", "multiplierDown": "0.7000", "avgPriceMins": "5"]))
        #expect(filters[3] == .lotSize(minQty: dec("0.001"), maxQty: dec("100000"), stepSize: dec("0.001")))
        #expect(filters[4] == .minNotional(minNotional: dec("0.001"), applyToMarket: true, avgPriceMins: 5))
        #expect(filters[5] == .notional(minNotional: dec("10"), applyMinToMarket: false, maxNotional: dec("10000"),
                                        applyMaxToMarket: false, avgPriceMins: 5))
        #expect(filters[6] == .other(filterType: "ICEBERG_PARTS", fields: ["limit": "10"]))
        #expect(filters[7] == .marketLotSize(minQty: dec("0.001"), maxQty: dec("100000"), stepSize: dec("0.001")))
        #expect(filters[11] == .other(filterType: "MAX_POSITION", fields: ["maxPosition": "10.00000000"]))
        #expect(filters[12] == .other(filterType: "TRAILING_DELTA", fields: [
            "minTrailingAboveDelta": "10", "maxTrailingAboveDelta": "2000", "minTrailingBelowDelta": "10", "maxTrailingBelowDelta": "2000"]))
    }

    @Test func unknownFiltersSurviveARoundTripWithTheirJSONKinds() throws {
        let text = #"[{"filterType":"ICEBERG_PARTS","limit":10},{"filterType":"MAX_ASSET","asset":"USDC","limit":"42.00000000"},"#
            + #"{"filterType":"SOMETHING_NEW","enabled":true,"count":-3,"ratio":"0.5","nested":{"a":1},"list":[1],"gone":null,"fraction":1.5}]"#
        let filters = try BinanceJSON.decode([SymbolFilter].self, from: Array(text.utf8), endpoint: "/api/v3/exchangeInfo")
        #expect(filters[1] == .other(filterType: "MAX_ASSET", fields: ["asset": "USDC", "limit": "42.00000000"]))
        // Unrepresentable values are dropped, never fatal.
        #expect(filters[2] == .other(filterType: "SOMETHING_NEW", fields: ["enabled": "true", "count": "-3", "ratio": "0.5"]))
        let reencoded = try JSONValue.parse(try BinanceJSON.encode(filters))
        let expected = try JSONValue.parse(Array((#"[{"filterType":"ICEBERG_PARTS","limit":10},{"filterType":"MAX_ASSET","asset":"USDC","limit":"42.00000000"},"#
            + #"{"filterType":"SOMETHING_NEW","enabled":true,"count":-3,"ratio":"0.5"}]"#).utf8))
        #expect(reencoded == expected)
        #expect(try BinanceJSON.decode([SymbolFilter].self, from: try BinanceJSON.encode(filters), endpoint: "/") == filters)
    }

    @Test func knownFiltersEncodeBinanceText() throws {
        let filter = SymbolFilter.priceFilter(minPrice: dec("0.01"), maxPrice: dec("1000000"), tickSize: dec("0.01"))
        #expect(try JSONValue.parse(try BinanceJSON.encode(filter)) == .object([
            "filterType": .string("PRICE_FILTER"), "minPrice": .string("0.01000000"),
            "maxPrice": .string("1000000.00000000"), "tickSize": .string("0.01000000")]))
    }

    @Test func duplicateFilterIsMalformed() throws {
        var symbol = try documentedSymbol()
        symbol.filters.append(.lotSize(minQty: dec("1"), maxQty: dec("2"), stepSize: dec("1")))
        let error = #expect(throws: GordonError.self) { try symbol.exchangeFilters() }
        #expect(error?.code == .exchangeMalformedResponse && error?.context["filter"] == "LOT_SIZE")
    }

    @Test func symbolAndAssets() throws {
        var symbol = try documentedSymbol()
        let value = try symbol.symbolValue()
        #expect(value == (try Symbol("ETHBTC")))
        #expect(value.base == .eth && value.quote == .btc)
        #expect(try symbol.baseAssetValue == .eth)
        #expect(try symbol.quoteAssetValue == .btc)
        symbol.symbol = "ETHUSDT"
        #expect(throws: GordonError.self) { try symbol.symbolValue() }
        symbol.baseAsset = "eth"
        let error = #expect(throws: GordonError.self) { try symbol.baseAssetValue }
        #expect(error?.code == .exchangeMalformedResponse && error?.context["field"] == "baseAsset")
    }

    @Test func olderSymbolWithoutNewerFieldsDecodes() throws {
        let text = """
        {"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","baseAssetPrecision":8,"quoteAsset":"USDT",
         "quoteAssetPrecision":8,"baseCommissionPrecision":8,"quoteCommissionPrecision":8,
         "orderTypes":["LIMIT","MARKET"],"icebergAllowed":true,"ocoAllowed":true,"quoteOrderQtyMarketAllowed":true,
         "allowTrailingStop":true,"cancelReplaceAllowed":true,"isSpotTradingAllowed":true,"isMarginTradingAllowed":false,
         "filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01000000","maxPrice":"1000000.00000000","tickSize":"0.01000000"}],
         "permissions":["SPOT"]}
        """
        let symbol = try BinanceJSON.decode(SymbolInfo.self, from: Array(text.utf8), endpoint: "/api/v3/exchangeInfo")
        #expect(symbol.otoAllowed == nil && symbol.permissionSets == nil && symbol.quotePrecision == nil)
        #expect(try symbol.exchangeFilters().tickSize == dec("0.01"))
        let reencoded = try JSONValue.parse(try BinanceJSON.encode(symbol))
        #expect(shapeDifferences(try JSONValue.parse(Array(text.utf8)), reencoded).isEmpty)
    }

    @Test func simulatorSymbolHasTheDocumentedKeySet() throws {
        var made = SymbolInfo(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", filters: try documentedSymbol().filters)
        made.permissionSets = [["SPOT", "MARGIN"]]  // same array lengths as the example, so only keys and kinds are compared
        let documented = try JSONValue.parse(try Fixtures.bytes("rest-exchangeInfo.json"))
        guard case .object(let root) = documented, case .array(let symbols)? = root["symbols"] else {
            Issue.record("fixture has no symbols")
            return
        }
        let differences = shapeDifferences(symbols[0], try JSONValue.parse(try BinanceJSON.encode(made)))
        #expect(differences.isEmpty, "\(differences)")
    }
}
