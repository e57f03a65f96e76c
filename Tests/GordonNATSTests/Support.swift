import GordonKernel
import GordonNATS
import GordonTestDB
import Logging

func connectShared(name: String = "test", configure: (inout NATSClientOptions) -> Void = { _ in }) async throws -> NATSClient {
    var options = try NATSClientOptions(urls: [try TestEnvironment.natsURL()], name: name)
    configure(&options)
    return try await NATSClient.connect(options, logger: Logger(label: "test.nats"))
}

/// A subject no other test uses.
func uniqueSubject(_ prefix: String = "t") -> String {
    "\(prefix).\(UInt64.random(in: 0...UInt64.max))"
}

extension Duration {
    static let deadline: Duration = .seconds(20)
}

/// Collects the first `count` messages of `subscription` or fails after the deadline.
func collect(_ subscription: NATSSubscription, count: Int, timeout: Duration = .deadline) async throws -> [NATSMessage] {
    try await withThrowingTaskGroup(of: [NATSMessage]?.self) { group in
        group.addTask {
            var messages: [NATSMessage] = []
            for try await message in subscription {
                messages.append(message)
                if messages.count == count { break }
            }
            return messages
        }
        group.addTask {
            try await Task.sleep(for: timeout)  // deadline, not synchronisation
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        guard let messages = first else { throw TestNATSServerError(message: "timed out waiting for \(count) messages") }
        return messages
    }
}
