public import GordonDomain
public import GordonKernel

/// A market stream's name as Binance spells it: `btcusdt@kline_1m`, `btcusdt@aggTrade`,
/// `btcusdt@bookTicker`. Symbols are lower case in names and upper case in payloads.
public enum MarketStreamName: Hashable, Sendable, CustomStringConvertible {
    case kline(Symbol, Interval)
    case aggTrade(Symbol)
    case bookTicker(Symbol)

    public var symbol: Symbol {
        switch self {
        case .kline(let symbol, _), .aggTrade(let symbol), .bookTicker(let symbol): symbol
        }
    }

    /// The name to subscribe to and the `"stream"` of combined messages.
    public var name: String {
        switch self {
        case .kline(let symbol, let interval): "\(symbol.rawValue.lowercased())@kline_\(interval.rawValue)"
        case .aggTrade(let symbol): "\(symbol.rawValue.lowercased())@aggTrade"
        case .bookTicker(let symbol): "\(symbol.rawValue.lowercased())@bookTicker"
        }
    }

    public var description: String { name }

    /// Parses a name `name` produces. The symbol must be lower case, as Binance sends it;
    /// timezone kline streams (`@kline_1d@+08:00`) are refused, since Gordon's klines are UTC.
    public init(parsing text: String) throws(GordonError) {
        func malformed(_ reason: String) -> GordonError {
            GordonError(.exchangeStreamMalformed, "not a supported market stream name: \(reason)",
                        context: ["value": String(text.prefix(64))])
        }
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw malformed("expected <symbol>@<stream>") }
        let symbolText = parts[0]
        guard symbolText.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { throw malformed("the symbol must be lower case letters and digits") }
        let symbol: Symbol
        do {
            symbol = try Symbol(symbolText.uppercased())
        } catch {
            throw malformed(error.message)
        }
        let stream = parts[1]
        switch stream {
        case "aggTrade":
            self = .aggTrade(symbol)
        case "bookTicker":
            self = .bookTicker(symbol)
        default:
            guard stream.hasPrefix("kline_"), let interval = Interval(rawValue: String(stream.dropFirst("kline_".count))) else {
                throw malformed("expected aggTrade, bookTicker or kline_<interval>")
            }
            self = .kline(symbol, interval)
        }
    }
}
