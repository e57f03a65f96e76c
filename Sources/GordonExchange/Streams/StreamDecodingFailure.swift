import GordonKernel

/// Why a stream message could not be decoded, before it becomes a `GordonError`.
///
/// The scanner and the payload readers throw this small value instead of `GordonError` so the
/// hot path never builds a context dictionary; `BinanceStreamDecoder` adds the raw excerpt once,
/// at the boundary.
struct StreamDecodingFailure: Error {
    /// One line naming what was wrong, e.g. `field "k.h": not a decimal: unexpected character`.
    var message: String
    /// Byte offset into the message where the problem was noticed, when known.
    var offset: Int?
    /// The domain error that rejected a value, kept for callers that inspect it.
    var underlying: GordonError?

    init(_ message: String, offset: Int? = nil, underlying: GordonError? = nil) {
        self.message = message
        self.offset = offset
        self.underlying = underlying
    }

    /// The same failure with what was being read (`"kline event: "`) in front.
    func prefixed(_ prefix: String) -> StreamDecodingFailure {
        var failure = self
        failure.message = prefix + message
        return failure
    }

    /// Text from the message, shown in a failure message: quoted, at most 48 characters,
    /// anything but printable ASCII as `?`, so the message stays one short line.
    static func quoted(_ text: some StringProtocol) -> String {
        var shown = "\""
        for scalar in text.unicodeScalars.prefix(48) {
            shown.unicodeScalars.append((0x20..<0x7F).contains(scalar.value) ? scalar : "?")
        }
        return shown + (text.unicodeScalars.count > 48 ? "…\"" : "\"")
    }

    /// How much of the raw message goes into the error's context: enough to recognise it in a
    /// log, never a whole (possibly huge or hostile) frame.
    static let rawExcerptLimit = 200

    /// The `GordonError` callers see: code `exchangeStreamMalformed`, this message, and the first
    /// `rawExcerptLimit` bytes of the message with control characters and non-ASCII shown as `?`.
    func gordonError(stream kind: String, raw: UnsafeBufferPointer<UInt8>) -> GordonError {
        var excerpt = String()
        excerpt.reserveCapacity(min(raw.count, Self.rawExcerptLimit) + 1)
        for byte in raw.prefix(Self.rawExcerptLimit) {
            excerpt.unicodeScalars.append((0x20..<0x7F).contains(byte) ? Unicode.Scalar(byte) : "?")
        }
        if raw.count > Self.rawExcerptLimit { excerpt += "…" }
        var context = ["raw": excerpt, "bytes": "\(raw.count)"]
        if let offset { context["offset"] = "\(offset)" }
        return GordonError(.exchangeStreamMalformed, "malformed \(kind) message: \(message)", context: context, underlying: underlying)
    }
}
