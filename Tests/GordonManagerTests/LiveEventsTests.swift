import GordonKernel
import Synchronization
@testable import GordonManager
import Testing

@Suite("live events: topics, the fan-out's bound, the console's credential")
struct LiveEventsTests {
    @Test("subjects map to the topics a client may follow; intents, market data and findings go to no one")
    func topicsOfSubjects() {
        #expect(LiveTopic(subject: "gordon.exec.order.alpha") == .orders)
        #expect(LiveTopic(subject: "gordon.exec.fill.alpha") == .fills)
        #expect(LiveTopic(subject: "gordon.risk.breaker.daily_loss") == .breakers)
        #expect(LiveTopic(subject: "gordon.risk.command.all") == .halt)
        #expect(LiveTopic(subject: "gordon.bot.lifecycle.alpha") == .bots)
        for quiet in ["gordon.intent.alpha", "gordon.market.kline.BTCUSDT.1m", "gordon.exec.reconciliation", "other.exec.order.a", "gordon"] {
            #expect(LiveTopic(subject: quiet) == nil, "\(quiet)")
        }
        #expect(LiveTopic.parse(nil) == Set(LiveTopic.allCases))
        #expect(LiveTopic.parse("orders,fills") == [.orders, .fills])
        #expect(LiveTopic.parse("orders,klines") == nil)
        #expect(LiveTopic.parse("orders,") == nil)
    }

    @Test("a subscriber gets only its topics, in order, while its queue has room")
    func deliversByTopic() {
        var state = FanOutState(capacity: 2)
        let orders = state.subscribe(to: [.orders])
        let everything = state.subscribe(to: Set(LiveTopic.allCases))
        #expect(state.offer(.orders) == .init(to: [orders, everything]))
        #expect(state.offer(.fills) == .init(to: [everything]))
        #expect(state.wants(.equity) && state.count == 2)
        state.unsubscribe(everything)
        #expect(!state.wants(.equity))
        #expect(state.offer(.fills) == .init())
    }

    @Test("a subscriber whose queue is full is dropped on the next event; the others get it")
    func dropsTheSlow() {
        var state = FanOutState(capacity: 2)
        let slow = state.subscribe(to: [.orders])
        let quick = state.subscribe(to: [.orders])
        for _ in 0..<2 {
            #expect(state.offer(.orders).to == [slow, quick])
            state.sent(quick)
        }
        #expect(state.offer(.orders) == .init(to: [quick], dropped: [slow]))
        #expect(!state.isSubscribed(slow) && state.isSubscribed(quick))
        // A message for one subscriber counts against its bound too.
        let first = state.offer(to: quick)
        let second = state.offer(to: quick)
        #expect(first && !second)
        #expect(!state.isSubscribed(quick))
        state.sent(quick)  // a write finishing after the drop changes nothing
        #expect(state.count == 0)
    }

    @Test("the fan-out never waits: a dropped subscriber's queue ends and its drop action runs once")
    func fanOutDropsAtOnce() async {
        let fanOut = EventFanOut(capacity: 1)
        let drops = DropCounter()
        let slow = fanOut.subscribe(to: [.orders], onDrop: { drops.add() })
        fanOut.publish("one", topic: .orders)
        fanOut.publish("two", topic: .orders)
        fanOut.publish("three", topic: .orders)
        var received: [String] = []
        for await text in slow.messages { received.append(text) }
        #expect(received == ["one"])
        #expect(drops.count == 1 && fanOut.droppedCount == 1 && fanOut.subscriberCount == 0)
    }

    @Test("the console's token is checked against the keyfile's SHA-256; its user's name must be plain")
    func consoleCredential() throws {
        let token = "s3cret-console-token"
        let credential = try ConsoleCredential(hexDigest: Secret(ConsoleCredential.hexDigest(of: token)))
        #expect(ConsoleCredential.hexDigest(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(credential.admits(authorization: "Bearer \(token)"))
        for refused in [nil, token, "Bearer ", "Bearer \(token)x", "bearer \(token)", "Basic \(token)"] {
            #expect(!credential.admits(authorization: refused), "\(String(describing: refused))")
        }
        #expect(throws: GordonError.self) { try ConsoleCredential(hexDigest: Secret("abc")) }
        #expect(throws: GordonError.self) { try ConsoleCredential(hexDigest: Secret(String(repeating: "g", count: 64))) }
        #expect(try ConsoleCredential.operatorName("alice@example.org") == "console.alice@example.org")
        #expect(try ConsoleCredential.operatorName(String(repeating: "a", count: 56)).utf8.count == 64)  // as long as risk's commands carry
        for bad in [nil, "", "alice bob", "alice\n", "alice:x", String(repeating: "a", count: 57), "ålice"] {
            #expect(throws: GordonError.self, "\(String(describing: bad))") { try ConsoleCredential.operatorName(bad) }
        }
    }
}

final class DropCounter: Sendable {
    private let value = Mutex(0)
    func add() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}
