public import GordonKernel

/// The life of one NATS connection, as a plain value: handshake (INFO → optional TLS →
/// CONNECT+PING → PONG), liveness (PINGs the server must answer), flush acknowledgements
/// (a flush is a PING whose PONG proves everything before it was processed) and the
/// server's errors. The channel handler feeds it events and performs the actions.
public struct NATSConnectionStateMachine: Sendable {
    public enum State: Sendable, Equatable {
        case awaitingInfo
        case awaitingConnectAck
        case connected
        case closed
    }

    /// Why a PING was sent; PONGs come back in order, so the queue says what each answers.
    enum PingPurpose: Sendable, Equatable {
        case handshake
        case keepalive
        case flush(UInt64)
    }

    public enum Action: Sendable {
        case none
        /// Send CONNECT and the handshake PING; first wrap the socket in TLS if asked.
        case sendConnect(NATSServerInfo, upgradeToTLS: Bool)
        case sendPong
        case sendPing
        case connected(NATSServerInfo)
        case deliver(NATSMessage)
        case flushCompleted(UInt64)
        case infoUpdated(NATSServerInfo)
        /// A non-fatal `-ERR` (permissions violation): the connection stays up.
        case reportError(GordonError)
        /// Close the connection; the error says why.
        case close(GordonError)
    }

    public private(set) var state: State = .awaitingInfo
    public private(set) var info: NATSServerInfo?
    private var pings: [PingPurpose] = []
    private let wantsTLS: Bool
    private let maxPingsOutstanding: Int

    public init(wantsTLS: Bool, maxPingsOutstanding: Int = 2) {
        self.wantsTLS = wantsTLS
        self.maxPingsOutstanding = maxPingsOutstanding
    }

    public var pingsOutstanding: Int { pings.count }

    public mutating func received(_ operation: NATSServerOperation) -> Action {
        switch (state, operation) {
        case (.closed, _):
            return .none
        case (.awaitingInfo, .info(let info)):
            if info.tlsRequired == false && wantsTLS && !info.tlsAvailable {
                return close(GordonError(.natsConnectFailed, "TLS was asked for but the server does not offer it"))
            }
            self.info = info
            state = .awaitingConnectAck
            pings.append(.handshake)
            return .sendConnect(info, upgradeToTLS: wantsTLS || info.tlsRequired)
        case (.awaitingInfo, _):
            return close(GordonError(.natsProtocolViolation, "NATS protocol violation: server did not start with INFO"))
        case (_, .info(let update)):
            // An INFO after the handshake announces cluster changes (connect_urls) or lame duck mode.
            info = update
            return .infoUpdated(update)
        case (_, .ping):
            return .sendPong
        case (_, .ok):
            return .none
        case (.awaitingConnectAck, .pong):
            guard pings.first == .handshake else { return close(GordonError(.natsProtocolViolation, "unexpected PONG")) }
            pings.removeFirst()
            state = .connected
            return .connected(info!)
        case (.awaitingConnectAck, .error(let text)):
            return close(Self.error(fromServer: text, duringHandshake: true))
        case (.awaitingConnectAck, .message):
            return close(GordonError(.natsProtocolViolation, "NATS protocol violation: message before the handshake completed"))
        case (.connected, .pong):
            guard !pings.isEmpty else { return .none }  // an unsolicited PONG is harmless
            if case .flush(let id) = pings.removeFirst() { return .flushCompleted(id) }
            return .none
        case (.connected, .message(let message)):
            return .deliver(message)
        case (.connected, .error(let text)):
            let error = Self.error(fromServer: text, duringHandshake: false)
            if error.code == .natsPermissionDenied { return .reportError(error) }
            return close(error)
        }
    }

    /// The keepalive timer fired: PING, or give up on a server that stopped answering.
    public mutating func pingTimerFired() -> Action {
        guard state == .connected else { return .none }
        let unanswered = pings.filter { $0 == .keepalive }.count
        if unanswered >= maxPingsOutstanding {
            return close(GordonError(.natsConnectionClosed, "stale connection: \(unanswered) PINGs unanswered"))
        }
        pings.append(.keepalive)
        return .sendPing
    }

    public mutating func flushRequested(_ id: UInt64) -> Action {
        guard state == .connected else { return .none }
        pings.append(.flush(id))
        return .sendPing
    }

    /// Flush ids whose PONG will never come because the connection is gone.
    public mutating func connectionLost() -> [UInt64] {
        state = .closed
        let ids = pings.compactMap { if case .flush(let id) = $0 { id } else { nil } }
        pings.removeAll()
        return ids
    }

    private mutating func close(_ error: GordonError) -> Action {
        state = .closed
        return .close(error)
    }

    /// Maps the text of `-ERR` to a Gordon error. Permission violations are the only ones the
    /// server survives; the rest precede the server closing the connection.
    public static func error(fromServer text: String, duringHandshake: Bool) -> GordonError {
        let lower = text.lowercased()
        let context = ["server_error": String(text.prefix(200))]
        if lower.hasPrefix("permissions violation") {
            return GordonError(.natsPermissionDenied, "NATS permission denied: \(text.prefix(200))", context: context)
        }
        // "Authentication Timeout": the CONNECT came too late (a loaded host), not bad
        // credentials; the connect is retried like any other failed attempt.
        if lower.contains("authentication timeout") {
            return GordonError(.natsConnectFailed, "NATS server timed out waiting for CONNECT", context: context)
        }
        if lower.contains("authorization violation") || lower.contains("authentication") || lower.contains("user authentication expired") {
            return GordonError(.natsAuthorizationFailed, "NATS server refused the credentials", context: context)
        }
        if lower.contains("slow consumer") {
            return GordonError(.natsSlowConsumer, "NATS server dropped this client as a slow consumer", context: context)
        }
        if lower.contains("maximum payload") {
            return GordonError(.natsPayloadTooLarge, "NATS server refused a message above max_payload", context: context)
        }
        return GordonError(duringHandshake ? .natsConnectFailed : .natsServerError, "NATS server error: \(text.prefix(200))", context: context)
    }
}
