public import GordonDomain
public import GordonKernel

/// Decodes Binance WebSocket stream messages into values. No sockets, no clock, no state.
///
/// Every malformed input, whatever it is, becomes `GordonError(.exchangeStreamMalformed, …)`
/// with a one-line message naming the problem and at most 200 bytes of the raw message in
/// its context; nothing traps.
///
/// Input is any `Collection<UInt8>`; contiguous storage (`[UInt8]`, `ArraySlice`, NIO's
/// `ByteBufferView`, a native `String`'s `utf8`) is read in place, anything else is copied once.
public enum BinanceStreamDecoder {
    /// A market stream message, raw (`{"e":"kline",…}`) or combined
    /// (`{"stream":"bnbbtc@kline_1m","data":{…}}`). In the combined form the stream name must
    /// agree with the payload's event type, symbol and interval.
    ///
    /// `knownSymbols` (the symbols subscribed to) is only a speed-up: a symbol in the message
    /// equal to one of them is taken as is instead of being validated and split again, which
    /// is the largest single cost of a kline. Any other symbol is validated as usual.
    public static func decodeMarket(_ bytes: some Collection<UInt8>, knownSymbols: [Symbol] = []) throws(GordonError) -> MarketStreamEvent {
        try withBuffer(bytes) { buffer in
            decoding(buffer, knownSymbols: knownSymbols, kind: "market stream") { (scanner: inout StreamJSONScanner) throws(StreamDecodingFailure) in
                try scanner.marketMessage()
            }
        }.get()
    }

    public static func decodeMarket(_ text: String, knownSymbols: [Symbol] = []) throws(GordonError) -> MarketStreamEvent {
        try decodeMarket(text.utf8, knownSymbols: knownSymbols)
    }

    /// A user data stream message: raw (`{"e":"executionReport",…}`), from the WebSocket API
    /// (`{"subscriptionId":0,"event":{…}}`) or combined (`{"stream":"<listenKey>","data":{…}}`).
    /// An event type Gordon does not act on is `.other`.
    public static func decodeUserData(_ bytes: some Collection<UInt8>) throws(GordonError) -> UserDataEvent {
        try withBuffer(bytes) { buffer in
            decoding(buffer, knownSymbols: [], kind: "user data stream") { (scanner: inout StreamJSONScanner) throws(StreamDecodingFailure) in
                try scanner.userDataMessage()
            }
        }.get()
    }

    public static func decodeUserData(_ text: String) throws(GordonError) -> UserDataEvent {
        try decodeUserData(text.utf8)
    }

    private static func withBuffer<Result>(_ bytes: some Collection<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        if let result = bytes.withContiguousStorageIfAvailable(body) { return result }
        return Array(bytes).withUnsafeBufferPointer(body)
    }

    /// Reads one whole message (nothing but whitespace may follow it) and turns a failure into
    /// the public error.
    private static func decoding<Event>(_ buffer: UnsafeBufferPointer<UInt8>, knownSymbols: [Symbol], kind: String,
                                        _ read: (inout StreamJSONScanner) throws(StreamDecodingFailure) -> Event) -> Result<Event, GordonError> {
        var scanner = StreamJSONScanner(buffer, knownSymbols: knownSymbols)
        do {
            let event = try read(&scanner)
            try scanner.expectEnd()
            return .success(event)
        } catch {
            return .failure(error.gordonError(stream: kind, raw: buffer))
        }
    }
}

/// The envelopes around payloads.
extension StreamJSONScanner {
    /// The key of the first member of the object at the current position, if it has one.
    private func firstKey() throws(StreamDecodingFailure) -> Range<Int>? {
        var probe = self
        var cursor = try probe.enterObject("the message")
        return try probe.nextKey(&cursor)
    }

    fileprivate mutating func marketMessage() throws(StreamDecodingFailure) -> MarketStreamEvent {
        guard let first = try firstKey(), key(first, is: "stream") || key(first, is: "data") else {
            return try marketPayload()
        }
        var streamName: String?
        var event: MarketStreamEvent?
        var cursor = try enterObject("the message")
        while let key = try nextKey(&cursor) {
            if self.key(key, is: "stream") {
                streamName = try string("stream")
            } else if self.key(key, is: "data") {
                event = try marketPayload()
            } else {
                try skipValue()
            }
        }
        let payload = try required(event, "data")
        let name = try required(streamName, "stream")
        try StreamJSONScanner.check(streamName: name, matches: payload)
        return payload
    }

    /// A combined message's stream name must be the one the payload belongs to, so an event
    /// is never filed under the wrong symbol or interval.
    private static func check(streamName text: String, matches event: MarketStreamEvent) throws(StreamDecodingFailure) {
        let expected: MarketStreamName
        switch event {
        case .kline(let update): expected = .kline(update.kline.symbol, update.kline.interval)
        case .aggTrade(let trade): expected = .aggTrade(trade.symbol)
        case .bookTicker(let ticker): expected = .bookTicker(ticker.symbol)
        case .serverShutdown: return
        }
        guard text == expected.name else {
            throw StreamDecodingFailure("stream \(StreamDecodingFailure.quoted(text)) does not match its payload (\(expected.name))")
        }
    }

    fileprivate mutating func userDataMessage() throws(StreamDecodingFailure) -> UserDataEvent {
        guard let first = try firstKey() else { return try userDataPayload() }
        let payloadKey: StaticString
        if key(first, is: "subscriptionId") || key(first, is: "event") {
            payloadKey = "event"
        } else if key(first, is: "stream") || key(first, is: "data") {
            payloadKey = "data"
        } else {
            return try userDataPayload()
        }
        var event: UserDataEvent?
        var cursor = try enterObject("the message")
        while let key = try nextKey(&cursor) {
            if self.key(key, is: payloadKey) {
                event = try userDataPayload()
            } else {
                try skipValue()
            }
        }
        return try required(event, payloadKey)
    }
}
