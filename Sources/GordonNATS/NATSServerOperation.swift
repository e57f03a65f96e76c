public import NIOCore

/// One message delivered by the server (MSG or HMSG).
public struct NATSMessage: Sendable {
    public var subject: String
    public var sid: UInt64
    public var replyTo: String?
    public var headers: NATSHeaders?
    /// Zero-copy slice of what the socket read.
    public var payload: ByteBuffer

    public init(subject: String, sid: UInt64 = 0, replyTo: String? = nil, headers: NATSHeaders? = nil, payload: ByteBuffer) {
        self.subject = subject
        self.sid = sid
        self.replyTo = replyTo
        self.headers = headers
        self.payload = payload
    }

    public var bytes: [UInt8] { Array(payload.readableBytesView) }
    public var string: String { String(buffer: payload) }
    /// The inline status of a header-only message (503 no responders, 408 timeout, …).
    public var status: Int? { headers?.status }
}

/// What the server can send (NATS client protocol).
public enum NATSServerOperation: Sendable {
    case info(NATSServerInfo)
    case message(NATSMessage)
    case ping
    case pong
    case ok
    case error(String)
}
