public import GordonKernel
public import NIOCore

/// One server to dial: `nats://[user:password@]host:port` or `tls://host:port`.
public struct NATSServerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var tls: Bool
    /// Credentials embedded in the URL; never printed.
    public var user: String?
    public var password: Secret?

    public init(host: String, port: Int = 4222, tls: Bool = false) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    public init(url: String) throws(GordonError) {
        func fail(_ why: String) -> GordonError {
            GordonError(.natsInvalidURL, "invalid NATS URL: \(why)")
        }
        var rest = Substring(url)
        tls = false
        if let range = rest.firstRange(of: "://") {
            switch rest[..<range.lowerBound].lowercased() {
            case "nats": tls = false
            case "tls": tls = true
            default: throw fail("scheme must be nats or tls")
            }
            rest = rest[range.upperBound...]
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = String(credentials[..<colon])
                password = Secret(String(credentials[credentials.index(after: colon)...]))
            } else {
                user = String(credentials)
            }
        }
        if rest.hasPrefix("[") {  // IPv6 literal
            guard let close = rest.firstIndex(of: "]") else { throw fail("unterminated IPv6 address") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let value = Int(rest.dropFirst()), (1...65535).contains(value) else { throw fail("bad port") }
                port = value
            } else {
                port = 4222
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let value = Int(rest[rest.index(after: colon)...]), (1...65535).contains(value) else { throw fail("bad port") }
            port = value
        } else {
            host = String(rest)
            port = 4222
        }
        guard !host.isEmpty else { throw fail("missing host") }
    }

    public var description: String { "\(tls ? "tls" : "nats")://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

/// How the client proves who it is.
public enum NATSAuth: Sendable {
    case none
    case userPassword(user: String, password: Secret)
    case token(Secret)
}

/// TLS for the connection (swift-nio-ssl; no nkeys). Either the server demands it in INFO,
/// or a `tls://` URL or these options ask for it.
public struct NATSTLSOptions: Sendable {
    /// PEM file of the CA that signed the server certificate; nil uses the system roots.
    public var trustRootsFile: String?
    /// Name to check the certificate against; nil uses the host being dialled.
    public var serverHostname: String?

    public init(trustRootsFile: String? = nil, serverHostname: String? = nil) {
        self.trustRootsFile = trustRootsFile
        self.serverHostname = serverHostname
    }
}

/// When and how often to redial after a connection is lost.
public struct NATSReconnectPolicy: Sendable {
    /// nil: forever. 0: never reconnect.
    public var maxAttempts: Int?
    public var initialDelay: TimeAmount
    public var maxDelay: TimeAmount
    /// The delay is multiplied by a random factor in `1 - jitter ... 1 + jitter`, so many
    /// clients losing one server do not stampede it in lockstep.
    public var jitter: Double

    public init(maxAttempts: Int? = nil, initialDelay: TimeAmount = .milliseconds(50),
                maxDelay: TimeAmount = .seconds(2), jitter: Double = 0.3) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.jitter = jitter
    }

    /// Delay before attempt `attempt` (1-based) of one reconnect episode.
    public func delay(attempt: Int, random: Double) -> TimeAmount {
        let exponent = min(max(attempt - 1, 0), 20)
        let base = min(Double(initialDelay.nanoseconds) * Double(1 << exponent), Double(maxDelay.nanoseconds))
        let factor = 1 + jitter * (2 * min(max(random, 0), 1) - 1)
        return .nanoseconds(Int64(base * factor))
    }
}

public struct NATSClientOptions: Sendable {
    public var servers: [NATSServerAddress]
    public var name: String
    public var auth: NATSAuth
    public var tls: NATSTLSOptions?
    /// Prefix of reply subjects. A per-user prefix (`_INBOX_gordon-bot`) lets the server's
    /// permissions keep one service from reading another's replies.
    public var inboxPrefix: String
    public var pingInterval: TimeAmount
    /// PINGs without a PONG after which the connection is declared stale and redialled.
    public var maxPingsOutstanding: Int
    public var connectTimeout: TimeAmount
    public var reconnect: NATSReconnectPolicy
    /// Bytes of publishes kept while disconnected. Past it, `publish` throws
    /// `natsReconnectBufferFull` and the message is not taken: the caller decides.
    public var reconnectBufferBytes: Int
    /// Bytes queued for the socket past which `publish` waits (back-pressure on producers).
    public var maxPendingWriteBytes: Int
    /// Messages a subscription buffers for a slow reader; past it, new messages are dropped,
    /// counted, and the subscription is flagged as a slow consumer (core NATS semantics).
    public var subscriptionPendingLimit: Int
    public var echo: Bool
    public var requestTimeout: TimeAmount

    public init(servers: [NATSServerAddress], name: String = "gordon", auth: NATSAuth = .none) {
        self.servers = servers
        self.name = name
        self.auth = auth
        self.inboxPrefix = "_INBOX"
        self.pingInterval = .seconds(20)
        self.maxPingsOutstanding = 2
        self.connectTimeout = .seconds(5)
        self.reconnect = NATSReconnectPolicy()
        self.reconnectBufferBytes = 8 * 1_048_576
        self.maxPendingWriteBytes = 16 * 1_048_576
        self.subscriptionPendingLimit = 65_536
        self.echo = true
        self.requestTimeout = .seconds(5)
    }

    public init(urls: [String], name: String = "gordon", auth: NATSAuth = .none) throws(GordonError) {
        var servers: [NATSServerAddress] = []
        for url in urls { servers.append(try NATSServerAddress(url: url)) }
        guard !servers.isEmpty else { throw GordonError(.natsInvalidURL, "no NATS server given") }
        self.init(servers: servers, name: name, auth: auth)
        if case .none = auth, let first = servers.first(where: { $0.user != nil }), let user = first.user {
            self.auth = first.password.map { .userPassword(user: user, password: $0) } ?? .token(Secret(user))
        }
    }
}
