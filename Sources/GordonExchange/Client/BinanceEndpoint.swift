public import GordonKernel

/// Where the client talks to: live Binance, the spot testnet, or any base URL speaking the
/// same API (BinanceSim on loopback). The choice is configuration only; no code path differs.
public struct BinanceEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// REST base, without a trailing slash: `https://api.binance.com`.
    public let restBaseURL: String
    /// WebSocket stream base: `wss://stream.binance.com:9443`. Market streams live under
    /// `/stream?streams=…`, a user data stream under `/ws/<listenKey>`.
    public let streamBaseURL: String
    /// WebSocket API URL: `wss://ws-api.binance.com:443/ws-api/v3`. The user data stream is
    /// subscribed there (`userDataStream.subscribe.signature`).
    public let webSocketAPIURL: String

    /// `webSocketAPIURL` defaults to `streamBaseURL` + `/ws-api/v3`, which is where a
    /// simulator serving everything on one port has it.
    public init(restBaseURL: String, streamBaseURL: String, webSocketAPIURL: String? = nil) throws(GordonError) {
        func check(_ url: String, schemes: [String]) throws(GordonError) -> String {
            let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
            guard let scheme = trimmed.split(separator: ":", maxSplits: 1).first.map(String.init),
                  schemes.contains(scheme.lowercased()), trimmed.contains("://"),
                  !trimmed.contains("?"), !trimmed.contains(" ")
            else {
                throw GordonError(.exchangeConfigInvalid, "endpoint URL must start with \(schemes.joined(separator: " or "))://",
                                  context: ["url": String(url.prefix(120))])
            }
            return trimmed
        }
        self.restBaseURL = try check(restBaseURL, schemes: ["http", "https"])
        self.streamBaseURL = try check(streamBaseURL, schemes: ["ws", "wss"])
        self.webSocketAPIURL = try check(webSocketAPIURL ?? self.streamBaseURL + "/ws-api/v3", schemes: ["ws", "wss"])
    }

    private init(unchecked rest: String, stream: String, webSocketAPI: String) {
        restBaseURL = rest
        streamBaseURL = stream
        webSocketAPIURL = webSocketAPI
    }

    public static let live = BinanceEndpoint(unchecked: "https://api.binance.com", stream: "wss://stream.binance.com:9443",
                                             webSocketAPI: "wss://ws-api.binance.com:443/ws-api/v3")
    public static let testnet = BinanceEndpoint(unchecked: "https://testnet.binance.vision", stream: "wss://stream.testnet.binance.vision",
                                                webSocketAPI: "wss://ws-api.testnet.binance.vision/ws-api/v3")

    /// `live`, `testnet`, or `http://HOST:PORT` for a simulator serving REST, streams and the
    /// WebSocket API on one port.
    public init(parsing text: String) throws(GordonError) {
        switch text.lowercased() {
        case "live": self = .live
        case "testnet": self = .testnet
        default:
            guard text.hasPrefix("http://") || text.hasPrefix("https://") else {
                throw GordonError(.exchangeConfigInvalid, "endpoint must be live, testnet or an http(s) URL",
                                  context: ["endpoint": String(text.prefix(120))])
            }
            let stream = (text.hasPrefix("https://") ? "wss://" : "ws://") + text.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)[2]
            try self.init(restBaseURL: text, streamBaseURL: stream)
        }
    }

    public var description: String { restBaseURL }
}

/// An API key pair. Both halves are `Secret`s: neither can reach a log line or an event.
public struct BinanceCredentials: Sendable {
    public let apiKey: Secret
    public let secretKey: Secret

    public init(apiKey: Secret, secretKey: Secret) throws(GordonError) {
        guard !apiKey.isEmpty, !secretKey.isEmpty else {
            throw GordonError(.exchangeConfigInvalid, "Binance API key and secret must both be set")
        }
        self.apiKey = apiKey
        self.secretKey = secretKey
    }

    /// From a service keyfile: `binance_api_key` and `binance_api_secret` (DESIGN §6).
    public init(keyfile: Keyfile) throws(GordonError) {
        try self.init(apiKey: keyfile.secret(Keyfile.binanceAPIKey), secretKey: keyfile.secret(Keyfile.binanceAPISecret))
    }
}
