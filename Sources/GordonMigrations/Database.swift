public import GordonKernel
public import Logging
public import PostgresNIO
import NIOCore
import Synchronization

/// Opening connections with Gordon's error mapping, and running a statement that must not
/// fail quietly.
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

/// Connection ids for postgres-nio's log metadata; unique per process.
private final class IdSource: Sendable {
    private let counter = Mutex(0)
    func next() -> Int { counter.withLock { $0 += 1; return $0 } }
}

extension PostgresConnection {
    /// postgres-nio logs queries at debug level and below into this logger; Gordon's own
    /// log lines say what a query was for.
    static let queryLogger = Logger(label: "gordon.postgres")

    /// Runs one statement with the extended protocol (bind parameters, one statement).
    @discardableResult
    func run(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        try await self.query(query, logger: Self.queryLogger)
    }
}
