import BinanceSim
import Foundation
import GordonBus
import GordonDomain
import GordonKernel
import GordonNATS
import GordonPostgres
import GordonProtocol
import GordonStrategy
import GordonTestDB
import PostgresNIO
import Testing

/// gordon-executor alone against the simulator, its intents and risk commands published on
/// the stream as a bot and gordon-risk would: halted, it refuses intents with the reason;
/// a flatten still cancels and sells everything, once.
@Suite("gordon-executor: halted, and the emergency flatten", .serialized)
struct ExecutorProcessTests {
    @Test("halted: an intent is refused with its reason and never reaches the simulator; a flatten sells the position down to dust, once")
    func haltedThenFlattened() async throws {
        try await ExecutorWorld().run { world in
            _ = try await world.startExecutor(reconcileEvery: 60)
            func flatten() async throws { try await world.flatten(reason: "drawdown breaker") }

            // Running: an entry fills.
            try await world.intent("t-buy-1", type: .market, quote: "600")
            #expect(try await eventually(timeout: .seconds(30)) { try await world.status("t-buy-1") == "FILLED" })
            try await world.expectBookMatchesAccount()

            // Halted: the next intent is refused with the reason, and nothing is sent.
            try await world.halt()
            try await world.intent("t-buy-2", type: .market, quote: "300")
            #expect(try await eventually(timeout: .seconds(30)) { try await world.status("t-buy-2").hasPrefix("REJECTED halted:") })
            #expect(world.simulator.placements(of: "t-buy-2") == 0)

            // The flatten is not stopped by the latch: everything held is sold, to below one lot.
            try await flatten()
            #expect(try await eventually(timeout: .seconds(30)) {
                try await world.scalar("SELECT count(*)::int FROM trading.orders WHERE side = 'SELL' AND status = 'FILLED'") == 1
            }, "no flatten sell: \(world.executorLog)")
            try await world.expectSoldToDust("what is left is below BTCUSDT's lot size")
            let reason = try await BotProcessTests.text(world.admin, "SELECT reason FROM trading.order_intents WHERE side = 'SELL'")
            #expect(reason == "flatten: drawdown breaker")

            // A second flatten finds only dust: no further order.
            try await flatten()
            #expect(try await eventually(timeout: .seconds(30)) {
                try await world.scalar("SELECT count(*)::int FROM trading.processed_events WHERE consumer = 'gordon-executor-risk'") == 2
            })
            #expect(try await world.scalar("SELECT count(*)::int FROM trading.orders WHERE side = 'SELL'") == 1)

            // The executor's role records flatten intents only.
            let executorConnection = try await world.database.connect(as: .executor)
            defer { Task { try? await executorConnection.close() } }
            #expect(try await BotIsolationTests.sqlState(executorConnection, BotIsolationTests.intent("x-1", bot: ExecutorWorld.bot, event: 9)) == "42501")
        }
    }

    @Test("a flatten waits for a placement under way and takes back accepted orders not yet sent: those are refused, never placed, and all that was bought is sold")
    func flattenWithdrawsPendingOrders() async throws {
        try await ExecutorWorld().run { world in
            _ = try await world.startExecutor(reconcileEvery: 3600)
            try await world.intent("t-buy-1", type: .market, quote: "600")
            #expect(try await eventually(timeout: .seconds(30)) { try await world.status("t-buy-1") == "FILLED" })

            // The next entry executes but its answer is held past the client's timeout: the
            // placer is busy resolving it while a further entry is accepted behind it.
            world.simulator.updateFaults { $0.delayedAcks = 1; $0.ackDelayMilliseconds = 12_000 }
            try await world.intent("t-buy-2", type: .market, quote: "200")
            #expect(try await eventually(timeout: .seconds(30)) { world.simulator.placements(of: "t-buy-2") == 1 })
            try await world.intent("t-buy-3", type: .market, quote: "200")
            #expect(try await eventually(timeout: .seconds(30)) { try await world.status("t-buy-3") == "PENDING_NEW" })

            try await world.flatten(reason: "drawdown breaker")
            #expect(try await eventually(timeout: .seconds(60)) {
                try await world.scalar("SELECT count(*)::int FROM trading.orders WHERE side = 'SELL' AND status = 'FILLED'") == 1
            }, "no flatten sell: \(world.executorLog)")
            #expect(try await world.status("t-buy-2") == "FILLED")
            #expect(try await world.status("t-buy-3").hasPrefix("REJECTED flatten: withdrawn before the order was sent"))
            #expect(world.simulator.placements(of: "t-buy-3") == 0)
            try await world.expectSoldToDust("everything bought is sold, to below one lot")
        }
    }

    @Test("a second flatten while the first one's sell is not yet on the exchange sells nothing more: the position is sold once")
    func secondFlattenWhileTheFirstSellIsPending() async throws {
        try await ExecutorWorld().run { world in
            _ = try await world.startExecutor(reconcileEvery: 3600)
            try await world.intent("t-buy-1", type: .market, quote: "600")
            #expect(try await eventually(timeout: .seconds(30)) { try await world.status("t-buy-1") == "FILLED" })

            // The exchange turns every request away (429): the first flatten's sell stays pending.
            world.simulator.updateFaults { $0.tooManyRequests = 1_000_000; $0.retryAfterSeconds = 1 }
            try await world.flatten(reason: "drawdown breaker")
            #expect(try await eventually(timeout: .seconds(30)) {
                try await world.scalar("SELECT count(*)::int FROM trading.orders WHERE side = 'SELL' AND status = 'PENDING_NEW'") == 1
            }, "no pending flatten sell: \(world.executorLog)")
            // A second breaker's flatten (another command) finds the position already being sold.
            try await world.flatten(reason: "daily loss breaker")
            #expect(try await eventually(timeout: .seconds(30)) {
                try await world.scalar("SELECT count(*)::int FROM trading.processed_events WHERE consumer = 'gordon-executor-risk'") == 2
            })
            #expect(try await world.scalar("SELECT count(*)::int FROM trading.orders WHERE side = 'SELL'") == 1)

            world.simulator.updateFaults { $0.tooManyRequests = 0 }
            #expect(try await eventually(timeout: .seconds(60)) {
                try await world.scalar("SELECT count(*)::int FROM trading.orders WHERE side = 'SELL' AND status = 'FILLED'") == 1
            }, "the flatten sell never filled: \(world.executorLog)")
            #expect(try await world.scalar("SELECT count(*)::int FROM trading.orders WHERE side = 'SELL'") == 1)
            try await world.expectSoldToDust("everything bought is sold, to below one lot")
        }
    }

    @Test("a placement stuck on the database gives up after its deadline: a flatten waiting for it goes on, books what the exchange executed and sells it")
    func flattenIsNotHeldByAPlacementStuckOnTheDatabase() async throws {
        try await ExecutorWorld().run { world in
            _ = try await world.startExecutor(reconcileEvery: 3600)
            try await world.intent("t-buy-1", type: .market, quote: "600")
            #expect(try await eventually(timeout: .seconds(30)) { try await world.status("t-buy-1") == "FILLED" })

            // The next entry executes on the exchange, and recording it waits on a lock as on
            // a connection that hangs: the placement is stuck while the flatten comes in. (The
            // lock is on the orders' history, which the intake does not write and every
            // recording of an execution does: the user data stream's report of the new order
            // cannot take it off the pending list either.)
            let locker = try await world.database.connect()
            try await locker.query("BEGIN", logger: testLogger)
            try await locker.query("LOCK TABLE trading.order_events IN ACCESS EXCLUSIVE MODE", logger: testLogger)
            try await world.intent("t-buy-2", type: .market, quote: "200")
            #expect(try await eventually(timeout: .seconds(30)) { world.simulator.placements(of: "t-buy-2") == 1 })
            try await world.flatten(reason: "drawdown breaker")
            let withdrawn = try await eventually(timeout: .seconds(60)) { world.executorLogged("flatten: pending orders withdrawn") }
            #expect(withdrawn, "the flatten still waits for the stuck placement: \(world.executorLog)")
            // (The placer logs its failure after it has let the flatten go on.)
            #expect(try await eventually(timeout: .seconds(10)) { world.executorLogged("order placement: recording an execution did not finish within") })
            try await locker.query("COMMIT", logger: testLogger)
            try await locker.close()

            #expect(try await eventually(timeout: .seconds(60)) {
                try await world.scalar("SELECT count(*)::int FROM trading.orders WHERE side = 'SELL' AND status = 'FILLED'") == 1
            }, "no flatten sell: \(world.executorLog)")
            #expect(try await world.status("t-buy-2") == "FILLED")
            try await world.expectSoldToDust("both entries are sold, to below one lot")
        }
    }
}
