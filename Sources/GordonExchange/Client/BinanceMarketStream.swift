public import GordonDomain
import GordonKernel
public import Logging
import Synchronization

/// What a market stream delivers.
public enum MarketStreamOutput: Sendable, Hashable {
    /// A final kline: each one exactly once per (symbol, interval), in open-time order,
    /// across drops and rollovers (gaps are backfilled over REST).
    case closedKline(Kline)
    /// A kline still forming: the latest snapshot, may repeat.
    case formingKline(Kline)
    case aggTrade(AggregateTrade)
    case bookTicker(BookTicker)
}

/// Binance's combined market streams (`/stream?streams=a/b/c`) kept alive indefinitely.
///
/// Connections (and their drops, backoff and 24-hour rollover) are `StreamConnections`'
/// business; this type is the single consumer loop behind them: it decodes each message,
/// drops what an overlapping connection already delivered, and runs every closed kline
/// through a `ClosedKlineSequencer`, fetching missed klines over REST when it finds a gap
/// or after a reconnect. A malformed message is logged and counted, never fatal.
public final class BinanceMarketStream: Sendable {
    public let streams: [MarketStreamName]
    /// The subscribed symbols, handed to the decoder so it skips re-validating them.
    private let symbols: [Symbol]
    private let rest: BinanceRESTClient
    private let connections: StreamConnections
    private let resumeFrom: [KlineSeriesKey: Int64]
    private let logger: Logger
    private let newestDelivering = Mutex(0)

    /// `resumeFrom` gives, per kline series, the open time of the last closed kline the
    /// consumer already has (from its database); delivery continues right after it.
    public init(streams: [MarketStreamName], rest: BinanceRESTClient, resumeFrom: [KlineSeriesKey: Int64] = [:],
                policy: StreamConnectionPolicy = StreamConnectionPolicy(), logger: Logger = Logger(label: "gordon.exchange.market-stream")) {
        self.streams = streams
        var symbols: [Symbol] = []
        for stream in streams where !symbols.contains(stream.symbol) { symbols.append(stream.symbol) }
        self.symbols = symbols
        self.rest = rest
        self.resumeFrom = resumeFrom
        self.logger = logger
        self.connections = StreamConnections(policy: policy, logger: logger)
    }

    public var counters: StreamCounters { connections.counters.withLock { $0 } }

    public var url: String {
        rest.configuration.endpoint.streamBaseURL + "/stream?streams=" + streams.map(\.name).joined(separator: "/")
    }

    /// Runs until the calling task is cancelled, handing each output to `deliver` in order.
    public func run(_ deliver: @escaping @Sendable (MarketStreamOutput) async -> Void) async {
        let (inbox, continuation) = AsyncStream<StreamInbound>.makeStream()
        let url = url
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                await connections.run(url: { url }, inbox: continuation, retired: { [self] generation in
                    newestDelivering.withLock { generation < $0 }
                })
                continuation.finish()
            }
            var state = ConsumerState(streams: streams, resumeFrom: resumeFrom)
            for await event in inbox {
                if Task.isCancelled { break }
                await consume(event, state: &state, deliver: deliver)
            }
            group.cancelAll()
        }
    }

    private struct ConsumerState {
        var sequencers: [KlineSeriesKey: ClosedKlineSequencer] = [:]
        var lastAggregateTrade: [Symbol: Int64] = [:]
        var lastBookUpdate: [Symbol: Int64] = [:]

        init(streams: [MarketStreamName], resumeFrom: [KlineSeriesKey: Int64]) {
            for stream in streams {
                if case .kline(let symbol, let interval) = stream {
                    let key = KlineSeriesKey(symbol: symbol, interval: interval)
                    sequencers[key] = ClosedKlineSequencer(interval: interval, lastDeliveredOpenTime: resumeFrom[key])
                }
            }
        }
    }

    private func consume(_ event: StreamInbound, state: inout ConsumerState,
                         deliver: @Sendable (MarketStreamOutput) async -> Void) async {
        switch event {
        case .connected(let generation):
            logger.info("market stream connected", metadata: ["generation": "\(generation)", "streams": "\(streams.count)"])
            // Whatever closed while no connection was up will not come over the stream.
            for key in state.sequencers.keys.sorted(by: { $0.description < $1.description }) {
                await catchUp(key, state: &state, deliver: deliver)
            }
        case .disconnected(let generation, let reason):
            logger.info("market stream connection closed", metadata: ["generation": "\(generation)", "reason": "\(reason)"])
        case .message(let generation, let bytes):
            connections.counters.withLock { $0.messages += 1 }
            newestDelivering.withLock { $0 = max($0, generation) }
            let decoded: MarketStreamEvent
            do { decoded = try BinanceStreamDecoder.decodeMarket(bytes, knownSymbols: symbols) } catch {
                connections.counters.withLock { $0.malformed += 1 }
                logger.error("malformed market stream message dropped", metadata: [
                    "error": "\(error)", "message": "\(String(decoding: bytes.prefix(200), as: UTF8.self))",
                ])
                return
            }
            switch decoded {
            case .kline(let update):
                let kline = update.kline
                guard kline.isClosed else { await deliver(.formingKline(kline)); return }
                let key = KlineSeriesKey(symbol: kline.symbol, interval: kline.interval)
                guard var sequencer = state.sequencers[key] else { return }
                let step = sequencer.receive(kline)
                state.sequencers[key] = sequencer
                switch step {
                case .deliver(let klines):
                    for kline in klines { await deliver(.closedKline(kline)) }
                case .duplicate:
                    connections.counters.withLock { $0.duplicatesDropped += 1 }
                case .needsBackfill:
                    await catchUp(key, state: &state, deliver: deliver)
                case .held, .ignored:
                    break  // already covered by the backfill in progress, or not this series
                }
            case .aggTrade(let trade):
                if let last = state.lastAggregateTrade[trade.symbol], trade.aggregateTradeId <= last {
                    connections.counters.withLock { $0.duplicatesDropped += 1 }
                    return
                }
                state.lastAggregateTrade[trade.symbol] = trade.aggregateTradeId
                await deliver(.aggTrade(trade))
            case .bookTicker(let ticker):
                if let last = state.lastBookUpdate[ticker.symbol], ticker.updateId <= last {
                    connections.counters.withLock { $0.duplicatesDropped += 1 }
                    return
                }
                state.lastBookUpdate[ticker.symbol] = ticker.updateId
                await deliver(.bookTicker(ticker))
            case .serverShutdown(let eventTime):
                // Binance announces maintenance; the connection drops soon and the reconnect
                // loop (with its backfill) takes over.
                logger.notice("Binance announced a stream server shutdown", metadata: ["eventTime": "\(eventTime)"])
            }
        }
    }

    /// Fetches over REST what the sequencer is missing (or, after a reconnect, everything
    /// closed since the last delivered kline) and delivers what becomes contiguous. A failed
    /// fetch is retried at the next message or reconnect; nothing is skipped meanwhile,
    /// because the sequencer holds later klines until the gap is filled.
    private func catchUp(_ key: KlineSeriesKey, state: inout ConsumerState,
                         deliver: @Sendable (MarketStreamOutput) async -> Void) async {
        guard var sequencer = state.sequencers[key] else { return }
        defer { state.sequencers[key] = sequencer }
        let start: Int64
        if let pending = sequencer.pendingBackfill {
            start = pending.from
        } else if let last = sequencer.lastDeliveredOpenTime {
            start = key.interval.nextOpenTime(after: last)
        } else {
            return  // nothing delivered yet: the stream's first closed kline starts the series
        }
        var from = start
        while true {
            let page: [Kline]
            do {
                page = try await rest.klines(symbol: key.symbol, interval: key.interval, startTime: from, limit: 1000)
            } catch {
                logger.warning("kline backfill failed; will retry", metadata: ["series": "\(key)", "error": "\(error)"])
                return
            }
            let closed = page.filter(\.isClosed)
            let ready = sequencer.backfilled(closed)
            connections.counters.withLock { $0.backfilledKlines += ready.count }
            for kline in ready { await deliver(.closedKline(kline)) }
            guard closed.count == 1000, let last = closed.last else { return }
            from = key.interval.nextOpenTime(after: last.openTime.milliseconds)
        }
    }
}

/// One kline series: a symbol at an interval.
public struct KlineSeriesKey: Sendable, Hashable, CustomStringConvertible {
    public let symbol: Symbol
    public let interval: Interval

    public init(symbol: Symbol, interval: Interval) {
        self.symbol = symbol
        self.interval = interval
    }

    public var description: String { "\(symbol)@\(interval)" }
}
