import GordonKernel
@testable import GordonNATS
import NIOCore
import Testing

@Suite struct StateMachineTests {
    private let info = NATSServerInfo(serverId: "S", version: "2.9.10", jetStream: true)

    private func connected() -> NATSConnectionStateMachine {
        var machine = NATSConnectionStateMachine(wantsTLS: false)
        _ = machine.received(.info(info))
        _ = machine.received(.pong)
        return machine
    }

    @Test func handshakeIsInfoThenConnectThenPong() {
        var machine = NATSConnectionStateMachine(wantsTLS: false)
        guard case .sendConnect(_, let tls) = machine.received(.info(info)) else { Issue.record("no CONNECT"); return }
        #expect(!tls)
        #expect(machine.state == .awaitingConnectAck)
        guard case .connected = machine.received(.pong) else { Issue.record("not connected"); return }
        #expect(machine.state == .connected)
    }

    @Test func serverDemandingTLSGetsTLS() {
        var machine = NATSConnectionStateMachine(wantsTLS: false)
        var tlsInfo = info
        tlsInfo.tlsRequired = true
        guard case .sendConnect(_, true) = machine.received(.info(tlsInfo)) else { Issue.record("no TLS upgrade"); return }
    }

    @Test func authorizationViolationDuringHandshakeClosesWithAuthError() {
        var machine = NATSConnectionStateMachine(wantsTLS: false)
        _ = machine.received(.info(info))
        guard case .close(let error) = machine.received(.error("Authorization Violation")) else { Issue.record("no close"); return }
        #expect(error.code == .natsAuthorizationFailed)
        #expect(machine.state == .closed)
    }

    @Test func anAuthenticationTimeoutIsAFailedConnectNotBadCredentials() {
        var machine = NATSConnectionStateMachine(wantsTLS: false)
        _ = machine.received(.info(info))
        guard case .close(let error) = machine.received(.error("Authentication Timeout")) else { Issue.record("no close"); return }
        #expect(error.code == .natsConnectFailed)
    }

    @Test func anythingButInfoFirstIsAViolation() {
        var machine = NATSConnectionStateMachine(wantsTLS: false)
        guard case .close(let error) = machine.received(.ping) else { Issue.record("no close"); return }
        #expect(error.code == .natsProtocolViolation)
    }

    @Test func permissionViolationIsReportedAndTheConnectionStays() {
        var machine = connected()
        guard case .reportError(let error) = machine.received(.error("Permissions Violation for Publish to \"x\"")) else {
            Issue.record("not reported"); return
        }
        #expect(error.code == .natsPermissionDenied)
        #expect(machine.state == .connected)
        guard case .close = machine.received(.error("Unknown Protocol Operation")) else { Issue.record("no close"); return }
    }

    @Test func pongsAnswerPingsInOrder() {
        var machine = connected()
        guard case .sendPing = machine.pingTimerFired() else { Issue.record("no ping"); return }
        _ = machine.flushRequested(1)
        _ = machine.flushRequested(2)
        guard case .none = machine.received(.pong) else { Issue.record("keepalive PONG completed a flush"); return }
        guard case .flushCompleted(1) = machine.received(.pong) else { Issue.record("flush 1"); return }
        guard case .flushCompleted(2) = machine.received(.pong) else { Issue.record("flush 2"); return }
    }

    @Test func unansweredPingsCloseAStaleConnection() {
        var machine = NATSConnectionStateMachine(wantsTLS: false, maxPingsOutstanding: 2)
        _ = machine.received(.info(info))
        _ = machine.received(.pong)
        guard case .sendPing = machine.pingTimerFired(), case .sendPing = machine.pingTimerFired() else { Issue.record("no pings"); return }
        guard case .close(let error) = machine.pingTimerFired() else { Issue.record("stale connection kept"); return }
        #expect(error.message.contains("stale"))
    }

    @Test func lostConnectionReturnsPendingFlushes() {
        var machine = connected()
        _ = machine.flushRequested(5)
        _ = machine.pingTimerFired()
        _ = machine.flushRequested(6)
        #expect(machine.connectionLost() == [5, 6])
        guard case .none = machine.flushRequested(7) else { Issue.record("flush on a closed connection"); return }
    }

    @Test func serverPingIsAnsweredAndInfoUpdatesAreSurfaced() {
        var machine = connected()
        guard case .sendPong = machine.received(.ping) else { Issue.record("no PONG"); return }
        var update = info
        update.connectURLs = ["10.0.0.3:4222"]
        guard case .infoUpdated(let surfaced) = machine.received(.info(update)) else { Issue.record("no update"); return }
        #expect(surfaced.connectURLs == ["10.0.0.3:4222"])
    }
}
