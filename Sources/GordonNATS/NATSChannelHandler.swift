import GordonKernel
import Logging
import NIOCore
import NIOSSL

/// Asks the handler to send a PING whose PONG completes flush `id`.
struct NATSFlushRequest: Sendable { var id: UInt64 }

/// Feeds socket bytes to `NATSParser` and parser output to `NATSConnectionStateMachine`,
/// then performs the machine's actions. It holds no protocol logic of its own.
final class NATSChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let client: NATSClient
    private let address: NATSServerAddress
    private let handshake: EventLoopPromise<NATSServerInfo>
    private var parser: NATSParser
    private var machine: NATSConnectionStateMachine
    private var context: ChannelHandlerContext?
    private var pingTimer: RepeatedTask?
    private var closeReason: GordonError?
    private var handshakeDone = false

    init(client: NATSClient, address: NATSServerAddress, handshake: EventLoopPromise<NATSServerInfo>) {
        self.client = client
        self.address = address
        self.handshake = handshake
        self.parser = NATSParser()
        self.machine = NATSConnectionStateMachine(wantsTLS: address.tls || client.options.tls != nil,
                                                  maxPingsOutstanding: client.options.maxPingsOutstanding)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        parser.append(unwrapInboundIn(data))
        while machine.state != .closed {
            let operation: NATSServerOperation?
            do {
                operation = try parser.next()
            } catch {
                fail(error, context: context)
                return
            }
            guard let operation else { return }
            perform(machine.received(operation), context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    private func perform(_ action: NATSConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .sendConnect(let info, let upgradeToTLS):
            parser.maxPayload = max(info.maxPayload, 1_048_576) + 4096
            if upgradeToTLS {
                do {
                    let hostname = client.options.tls?.serverHostname ?? (address.host.isIPAddressLiteral ? nil : address.host)
                    let tls = try NIOSSLClientHandler(context: try client.tlsContext(), serverHostname: hostname)
                    try context.pipeline.syncOperations.addHandler(tls, position: .first)
                } catch {
                    fail(GordonError(.natsConnectFailed, "cannot start TLS", underlying: error), context: context)
                    return
                }
            }
            var buffer = context.channel.allocator.buffer(capacity: 256)
            NATSCommands.connect(into: &buffer, json: client.connectJSON(info: info, tls: upgradeToTLS, address: address))
            NATSCommands.ping(into: &buffer)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .sendPong:
            var buffer = context.channel.allocator.buffer(capacity: 6)
            NATSCommands.pong(into: &buffer)
            context.write(wrapOutboundOut(buffer), promise: nil)
        case .sendPing:
            var buffer = context.channel.allocator.buffer(capacity: 6)
            NATSCommands.ping(into: &buffer)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .connected(let info):
            handshakeDone = true
            startPingTimer(context: context)
            handshake.succeed(info)
        case .deliver(let message):
            client.deliver(message)
        case .flushCompleted(let id):
            client.flushCompleted(id)
        case .infoUpdated(let info):
            client.serverInfoUpdated(info)
        case .reportError(let error):
            client.serverReported(error)
        case .close(let error):
            fail(error, context: context)
        }
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        let gordonError = (error as? GordonError) ?? GordonError(.natsConnectionClosed, "NATS connection failed", underlying: error)
        if closeReason == nil { closeReason = gordonError }
        _ = machine.connectionLost()
        context.close(promise: nil)
    }

    private func startPingTimer(context: ChannelHandlerContext) {
        let interval = client.options.pingInterval
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        pingTimer = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, context) = bound.value
            handler.perform(handler.machine.pingTimerFired(), context: context)
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let request = event as? NATSFlushRequest {
            switch machine.flushRequested(request.id) {
            case .sendPing: perform(.sendPing, context: context)
            default: client.flushFailed([request.id], GordonError(.natsConnectionClosed, "NATS connection is not open"))
            }
            promise?.succeed(())
        } else {
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { client.channelBecameWritable(context.channel) }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(GordonError(.natsConnectionClosed, "NATS connection error", underlying: error), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pingTimer?.cancel()
        pingTimer = nil
        let lostFlushes = machine.connectionLost()
        let reason = closeReason ?? GordonError(.natsConnectionClosed, "NATS server closed the connection",
                                                context: ["server": address.description])
        if !handshakeDone { handshake.fail(reason) }
        client.connectionLost(context.channel, reason: reason, flushes: lostFlushes)
        context.fireChannelInactive()
    }
}

extension String {
    var isIPAddressLiteral: Bool {
        contains(":") || (split(separator: ".").count == 4 && allSatisfy { $0.isNumber || $0 == "." })
    }
}
