public import GordonKernel
public import PostgresNIO

/// A parsed `GORDON_DATABASE_URL`: `postgres://user[:password]@host[:port]/database`, or
/// a Unix socket as `postgres://user@/database?host=/run/postgresql`.
///
/// Only `sslmode=disable` (the default) is accepted: Gordon's database is on the same host,
/// reached over loopback or a Unix socket. The password, if any, never appears in
/// `description`, so a URL can be logged.
public struct DatabaseURL: Sendable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)
    }

    public var endpoint: Endpoint
    public var username: String
    public var password: Secret?
    public var database: String

    public init(endpoint: Endpoint, username: String, password: Secret?, database: String) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
    }

    public init(parsing text: String) throws(GordonError) {
        func invalid(_ why: String) -> GordonError {
            GordonError(.invalidDatabaseURL, "database URL \(why)", context: ["url": DatabaseURL.redacting(text)])
        }
        var rest = Substring(text)
        if rest.hasPrefix("postgres://") {
            rest = rest.dropFirst("postgres://".count)
        } else if rest.hasPrefix("postgresql://") {
            rest = rest.dropFirst("postgresql://".count)
        } else {
            throw invalid("must start with postgres:// or postgresql://")
        }
        var query: [String: String] = [:]
        if let questionMark = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: questionMark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, let key = DatabaseURL.percentDecode(parts[0]),
                      let value = DatabaseURL.percentDecode(parts[1]) else {
                    throw invalid("has a malformed query parameter")
                }
                query[key] = value
            }
            rest = rest[..<questionMark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw invalid("names no database (…/DATABASE)") }
        guard let database = DatabaseURL.percentDecode(rest[rest.index(after: slash)...]), !database.isEmpty,
              !database.contains("/") else {
            throw invalid("names no database (…/DATABASE)")
        }
        let authority = rest[..<slash]
        guard let at = authority.lastIndex(of: "@") else { throw invalid("names no user (postgres://USER@…)") }
        let userInfo = authority[..<at]
        let hostPort = authority[authority.index(after: at)...]
        let userParts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let username = DatabaseURL.percentDecode(userParts[0]), !username.isEmpty else {
            throw invalid("names no user (postgres://USER@…)")
        }
        var password: Secret?
        if userParts.count == 2 {
            guard let decoded = DatabaseURL.percentDecode(userParts[1]) else { throw invalid("has a malformed password") }
            password = Secret(decoded)
        }
        for (key, value) in query {
            switch key {
            case "sslmode" where value == "disable": continue
            case "sslmode": throw invalid("asks for sslmode=\(value); only sslmode=disable is supported (loopback or socket)")
            case "host": continue
            default: throw invalid("has an unknown parameter '\(key)'")
            }
        }
        let endpoint: Endpoint
        if let socketDirectory = query["host"] {
            guard hostPort.isEmpty, socketDirectory.hasPrefix("/") else {
                throw invalid("host= must be an absolute socket directory and the authority must have no host")
            }
            let port = 5432
            endpoint = .unixSocket(path: "\(socketDirectory)/.s.PGSQL.\(port)")
        } else {
            var host = hostPort
            var port = 5432
            if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
                guard let parsed = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(parsed) else {
                    throw invalid("has a port that is not a number from 1 to 65535")
                }
                port = parsed
                host = hostPort[..<colon]
            }
            if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
            guard !host.isEmpty else { throw invalid("names no host") }
            endpoint = .tcp(host: String(host), port: port)
        }
        self.init(endpoint: endpoint, username: username, password: password, database: database)
    }

    /// The same URL with another database, for tools that create and clone databases.
    public func with(database: String) -> DatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }

    public func with(username: String, password: Secret?) -> DatabaseURL {
        var copy = self
        copy.username = username
        copy.password = password
        return copy
    }

    public var connectionConfiguration: PostgresConnection.Configuration {
        let plain = password?.withPlainText { $0 }
        var configuration: PostgresConnection.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            configuration = .init(host: host, port: port, username: username, password: plain, database: database, tls: .disable)
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: username, password: plain, database: database)
        }
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    public var description: String {
        let credentials = password == nil ? username : "\(username):***"
        switch endpoint {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "postgres://\(credentials)@\(shownHost):\(port)/\(database)"
        case .unixSocket(let path):
            return "postgres://\(credentials)@/\(database)?socket=\(path)"
        }
    }

    /// A URL string with any password replaced, for error messages about unparsable URLs.
    static func redacting(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return "<unparsable>" }
        let afterScheme = text[schemeEnd.upperBound...]
        guard let at = afterScheme.lastIndex(of: "@") else { return text }
        let userInfo = afterScheme[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    static func percentDecode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(Hex.nibble), let low = iterator.next().flatMap(Hex.nibble) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
