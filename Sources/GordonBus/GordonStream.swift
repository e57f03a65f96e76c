public import GordonKernel
public import GordonNATS
public import Logging

/// The one JetStream stream every Gordon event lives in (DESIGN §4).
public enum GordonStream {
    public static let name = "GORDON"
    public static let subjects = ["gordon.>"]

    /// File storage, a duplicate window long enough to cover a relay restart (a republished
    /// outbox row inside it is acknowledged as a duplicate, not stored twice), and limits that
    /// keep the stream from filling the Pi's disk.
    public static func configuration(
        duplicateWindow: Duration = .seconds(600),
        maxAge: Duration = .seconds(90 * 86_400),
        maxBytes: Int64 = 8 << 30
    ) -> StreamConfig {
        var config = StreamConfig(name: name, subjects: subjects)
        config.storage = "file"
        config.retention = "limits"
        config.discard = "old"
        config.duplicateWindow = duplicateWindow.nanoseconds
        config.maxAge = maxAge.nanoseconds
        config.maxBytes = maxBytes
        config.maxMessageSize = 1 << 20
        config.denyDelete = true
        config.denyPurge = true
        return config
    }

    /// Creates the stream, or brings an existing one to `config`; doing it twice changes
    /// nothing. Returns what the server now holds.
    @discardableResult
    public static func ensure(_ jetStream: JetStream, _ config: StreamConfig = configuration(),
                              logger: Logger = Logger(label: "gordon.bus")) async throws(GordonError) -> StreamInfo {
        do {
            let existing = try await jetStream.streamInfo(config.name)
            if existing.config == config { return existing }
            logger.notice("updating stream configuration", metadata: ["stream": "\(config.name)"])
            return try await jetStream.updateStream(config)
        } catch where error.code == .jetStreamNotFound {
            do {
                logger.notice("creating stream", metadata: ["stream": "\(config.name)"])
                return try await jetStream.createStream(config)
            } catch where error.code == .jetStreamAPIError && error.context["err_code"] == "10058" {
                // Another process created it between our INFO and CREATE: that is success.
                return try await jetStream.streamInfo(config.name)
            }
        }
    }
}
