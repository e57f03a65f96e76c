import GordonKernel
public import Logging
public import PostgresNIO

/// LISTEN on one channel for as long as the task runs, on a connection of its own that is
/// opened again, with a growing pause, whenever it fails: a producer's NOTIFY is a doorbell,
/// and a listener that gave up would leave its reader polling forever.
public struct NotificationListener: Sendable {
    public let channel: String
    private let connect: @Sendable () async throws -> PostgresConnection
    private let logger: Logger

    public init(channel: String, logger: Logger, connect: @escaping @Sendable () async throws -> PostgresConnection) {
        self.channel = channel
        self.logger = logger
        self.connect = connect
    }

    /// Until cancelled. `body` gets each new connection and its notifications; it runs again
    /// after every reconnect, so it should assume it missed what came in between.
    public func run(
        _ body: @escaping @Sendable (PostgresConnection, PostgresNotificationSequence) async throws -> Void
    ) async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let connection = try await connect()
                do {
                    try await connection.listen(on: channel) { notifications in
                        failures = 0
                        try await body(connection, notifications)
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                failures += 1
                logger.debug("listener reconnecting", metadata: ["channel": "\(channel)", "error": "\(error)"])
            }
            try? await Task.sleep(for: retryBackoff(afterFailures: failures))
        }
    }
}
