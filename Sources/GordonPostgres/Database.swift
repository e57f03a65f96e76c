public import GordonKernel
public import Logging
public import PostgresNIO
import NIOCore
import Synchronization

/// Opening connections and pools with Gordon's error mapping, and running a statement that
/// must not fail quietly.
public enum Database {
    private static let connectionIds = IdSource()

    public static func connect(_ url: DatabaseURL, logger: Logger) async throws(GordonError) -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(
                configuration: url.connectionConfiguration, id: connectionIds.next(), logger: logger)
        } catch {
            throw PostgresFailure.map(error, url: url)
        }
    }

    /// Runs `body` on a new connection and closes it afterwards, whatever happens.
    @discardableResult
    public static func withConnection<T: Sendable>(
        _ url: DatabaseURL, logger: Logger,
        _ body: (PostgresConnection) async throws -> T
    ) async throws(GordonError) -> T {
        let connection = try await connect(url, logger: logger)
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw PostgresFailure.map(error, url: url)
        }
    }
}

extension Database {
    /// A connection pool for a long-running service: run it as a `Service` in the service's
    /// group (it connects lazily, so a dead database shows up on first use and in `/readyz`).
    public static func makePool(_ url: DatabaseURL, maximumConnections: Int = 8, logger: Logger) -> PostgresClient {
        let connection = url.connectionConfiguration
        var configuration: PostgresClient.Configuration
        switch url.endpoint {
        case .tcp(let host, let port):
            configuration = .init(host: host, port: port, username: connection.username, password: connection.password,
                                  database: connection.database, tls: .disable)
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: connection.username, password: connection.password,
                                  database: connection.database)
        }
        configuration.options.connectTimeout = .nanoseconds(connection.options.connectTimeout.nanoseconds)
        configuration.options.maximumConnections = maximumConnections
        return PostgresClient(configuration: configuration, backgroundLogger: logger)
    }
}

/// How a transaction body wants its transaction to end.
public enum TransactionEnd<Value: Sendable>: Sendable {
    case commit(Value)
    case rollback(Value)
}

extension PostgresConnection {
    /// BEGIN, the body, then COMMIT or ROLLBACK as the body answers; ROLLBACK when it throws
    /// (the error is rethrown as it is: callers map it with the context they know).
    public func withTransaction<Value: Sendable>(
        logger: Logger = PostgresConnection.queryLogger,
        _ body: (PostgresConnection) async throws -> TransactionEnd<Value>
    ) async throws -> Value {
        try await query("BEGIN", logger: logger)
        let end: TransactionEnd<Value>
        do {
            end = try await body(self)
        } catch {
            _ = try? await query("ROLLBACK", logger: logger)
            throw error
        }
        switch end {
        case .commit(let value):
            do {
                try await query("COMMIT", logger: logger)
            } catch {
                _ = try? await query("ROLLBACK", logger: logger)
                throw error
            }
            return value
        case .rollback(let value):
            try await query("ROLLBACK", logger: logger)
            return value
        }
    }
}

/// Connection ids for postgres-nio's log metadata; unique per process.
private final class IdSource: Sendable {
    private let counter = Mutex(0)
    func next() -> Int { counter.withLock { $0 += 1; return $0 } }
}

extension PostgresConnection {
    /// postgres-nio logs queries at debug level and below into this logger; Gordon's own
    /// log lines say what a query was for.
    public static let queryLogger = Logger(label: "gordon.postgres")

    /// Runs one statement with the extended protocol (bind parameters, one statement).
    @discardableResult
    public func run(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        try await self.query(query, logger: Self.queryLogger)
    }
}
