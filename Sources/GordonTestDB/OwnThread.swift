import Foundation

/// Runs blocking work (waiting for a child process, polling its log) on a thread of its own.
///
/// Swift's cooperative pool has one thread per core: two on a two-core machine. A test that
/// blocks one of them for seconds starves every other test's tasks, and their deadlines
/// expire for no fault of the code under test.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// `onOwnThread` for work that cannot fail.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}
