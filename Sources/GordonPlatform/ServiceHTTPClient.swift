public import AsyncHTTPClient
public import GordonKernel
import NIOCore
public import NIOHTTP1
import Synchronization

/// HTTP calls to another Gordon service (gordonctl and the console to the manager, the bot to
/// gordon-data's `/warmup`), behind a `CircuitBreaker`: a peer that keeps failing is refused
/// locally until its open period ends. The caller's trace travels as `traceparent`.
public final class ServiceHTTPClient: Sendable {
    public struct Reply: Sendable {
        public let status: Int
        public let body: [UInt8]
    }

    public let peer: String
    public let baseURL: String
    private let http: HTTPClient
    private let timeout: Duration
    private let breaker: Mutex<CircuitBreaker>
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant

    /// - Parameters:
    ///   - peer: the service called, for errors and logs (`gordon-manager`).
    ///   - baseURL: `http://127.0.0.1:8083`.
    ///   - breaker: opens after repeated failures, so a dead peer is not waited on each time.
    ///   - timeout: the longest one call may take.
    ///   - http: the HTTP client the calls go through.
    public init(peer: String, baseURL: String, breaker: CircuitBreaker = CircuitBreaker(),
                timeout: Duration = .seconds(5), http: HTTPClient = .shared) {
        self.peer = peer
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.http = http
        self.timeout = timeout
        self.breaker = Mutex(breaker)
        self.origin = clock.now
    }

    public var breakerState: CircuitBreaker.State { breaker.withLock { $0.state } }

    /// A 5xx or a transport failure counts against the peer; any other status is an answer
    /// (a 404 is the caller's business, not a sign the peer is down).
    public func send(_ method: HTTPMethod = .GET, _ path: String, body: [UInt8]? = nil,
                     contentType: String = "application/json", headers: [(name: String, value: String)] = [],
                     traceId: TraceId? = nil) async throws(GordonError) -> Reply {
        let ticket: CircuitBreaker.Ticket
        switch breaker.withLock({ $0.request(at: now) }) {
        case .allow(let allowed):
            ticket = allowed
        case .reject(let retryAfter):
            throw GordonError(.serviceUnavailable, "\(peer) is failing; calls are held back by its circuit breaker",
                              context: ["peer": peer, "retry_after": "\(retryAfter)"])
        }
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        if let traceId { request.headers.add(name: "traceparent", value: traceId.traceparent(spanId: UInt64.random(in: 1...UInt64.max))) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await http.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            let buffer = try await response.body.collect(upTo: 16 << 20)
            let reply = Reply(status: Int(response.status.code), body: Array(buffer.readableBytesView))
            breaker.withLock { reply.status >= 500 ? $0.failed(ticket, at: now) : $0.succeeded(ticket, at: now) }
            return reply
        } catch {
            if Task.isCancelled {
                breaker.withLock { $0.abandoned(ticket, at: now) }
                throw GordonError(.serviceUnavailable, "call to \(peer) cancelled", context: ["peer": peer, "path": path])
            }
            breaker.withLock { $0.failed(ticket, at: now) }
            throw GordonError(.serviceUnavailable, "\(peer) did not answer: \(error)", context: ["peer": peer, "path": path])
        }
    }

    private var now: Duration { origin.duration(to: clock.now) }
}
