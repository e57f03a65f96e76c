public import GordonDomain
public import GordonExchange
public import GordonKernel
public import GordonProtocol
public import Logging
import NIOConcurrencyHelpers
public import PostgresNIO

/// The account's user data stream, Gordon's first word on what happened to its orders: each
/// `executionReport` of an order Gordon placed is recorded as it arrives (the order moved on,
/// its trade, the position, the events for the bot), so an order resting on the book is
/// booked when it fills, not at the next reconciliation. The records only move forward, so
/// the placement answer and the stream may report the same change in either order.
///
/// A report of an order Gordon has no record of (placed by hand) is counted and left alone.
/// Every (re)connection may have missed reports, so it asks for a reconciliation.
public final class UserStreamRecorder: Sendable {
    public struct Counters: Sendable, Equatable {
        public var reports = 0
        public var recorded = 0
        public var fills = 0
        public var unknownOrders = 0
        public var unreadable = 0
        public var connections = 0
        /// A connection is up (from its `resynchronize` to the last one closing).
        public var up = false
    }

    let connect: @Sendable () async throws -> PostgresConnection
    let reconnected: @Sendable () -> Void
    let executed: @Sendable () -> Void
    let logger: Logger
    let ids: EventIdGenerator
    private let counters = NIOLockedValueBox(Counters())
    private let connection = NIOLockedValueBox<PostgresConnection?>(nil)

    public init(logger: Logger, ids: EventIdGenerator = EventIdGenerator(), connect: @escaping @Sendable () async throws -> PostgresConnection,
                reconnected: @escaping @Sendable () -> Void, executed: @escaping @Sendable () -> Void = {}) {
        self.connect = connect
        self.reconnected = reconnected
        self.executed = executed
        self.logger = logger
        self.ids = ids
    }

    public var statistics: Counters { counters.withLockedValue { $0 } }

    /// Marks the stream down (its connection ended); the next connection marks it up.
    public func streamEnded() {
        counters.withLockedValue { $0.up = false }
    }

    public func deliver(_ output: UserDataOutput) async {
        switch output {
        case .resynchronize:
            counters.withLockedValue {
                $0.connections += 1
                $0.up = true
            }
            reconnected()
        case .event(.executionReport(let report)):
            counters.withLockedValue { $0.reports += 1 }
            // A failed write is retried once on a new connection; then reconciliation, which
            // the failure triggers, reads the same state from the exchange.
            for attempt in 1...2 {
                switch await record(report) {
                case .success:
                    return
                case .failure(let error):
                    logger.warning("recording a user-stream report failed", metadata: [
                        "clientOrderId": "\(report.orderClientId)", "attempt": "\(attempt)", "error": "\(error)",
                    ])
                    await dropConnection()
                }
            }
            reconnected()
        case .interrupted:
            counters.withLockedValue { $0.up = false }
        case .event(.eventStreamTerminated):
            counters.withLockedValue { $0.up = false }
            reconnected()
        case .event:
            return  // balances: reconciliation reads them from the account
        }
    }

    private func record(_ report: ExecutionReport) async -> Result<Void, any Error> {
        do {
            let connection = try await openConnection()
            guard let bot = try await ExecutorRecords.owner(of: report.orderClientId, on: connection, logger: logger) else {
                counters.withLockedValue { $0.unknownOrders += 1 }
                logger.notice("user stream: an order Gordon did not place; left alone", metadata: [
                    "clientOrderId": "\(report.orderClientId)", "symbol": "\(report.symbol.rawValue)", "status": "\(report.orderStatus.rawValue)",
                ])
                return .success(())
            }
            let order: Order
            let fill: Fill?
            do {
                order = try report.order(botId: bot)
                fill = try report.fill()
            } catch {
                // A quote-sized order before it executes states no quantity: its placement
                // answer records it. Anything else unreadable is reconciliation's to settle.
                counters.withLockedValue { $0.unreadable += 1 }
                logger.info("user stream: a report that cannot be recorded as it stands", metadata: [
                    "clientOrderId": "\(report.orderClientId)", "error": "\(error)",
                ])
                return .success(())
            }
            let fresh = try await connection.withTransaction(logger: logger) { connection in
                .commit(try await ExecutorRecords.recordExecution(order, fills: fill.map { [$0] } ?? [], ids: ids, traceId: TraceId.random(),
                                                                  on: connection, logger: logger))
            }
            if !fresh.isEmpty { executed() }
            counters.withLockedValue {
                $0.recorded += 1
                $0.fills += fresh.count
            }
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    private func openConnection() async throws -> PostgresConnection {
        if let open = connection.withLockedValue({ $0 }) { return open }
        let fresh = try await connect()
        connection.withLockedValue { $0 = fresh }
        return fresh
    }

    private func dropConnection() async {
        let old = connection.withLockedValue { old in
            defer { old = nil }
            return old
        }
        try? await old?.close()
    }

    public func close() async {
        await dropConnection()
    }
}
