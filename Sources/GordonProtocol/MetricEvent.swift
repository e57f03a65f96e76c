public import GordonDomain
public import GordonKernel

/// One observation of a market metric (Fear & Greed, DVOL, a funding rate) from
/// gordon-data, on `gordon.market.metric.<name>`.
public struct MetricEvent: EventPayload, Hashable {
    public static let eventType = "metric"

    public let name: MetricName
    /// Any sign: funding rates go negative.
    public let value: ExactDecimal
    /// When the provider measured it, not when Gordon fetched it.
    public let observedAt: Timestamp
    /// The provider, e.g. `alternative.me`, `deribit`, `fred`: 1–64 printable ASCII
    /// characters without spaces.
    public let source: String
    /// E.g. `index`, `percent`: 1–32 bytes without control characters.
    public let unit: String?

    public init(name: MetricName, value: ExactDecimal, observedAt: Timestamp, source: String, unit: String? = nil) throws(GordonError) {
        guard Text.isPrintableWord(source, maxBytes: 64) else {
            throw invalidPayload(Self.eventType, "source must be 1-64 printable ASCII characters without spaces",
                                 ["source": Text.quoted(source)])
        }
        if let unit, !Text.isFreeText(unit, maxBytes: 32) {
            throw invalidPayload(Self.eventType, "unit must be 1-32 bytes without control characters", ["unit": Text.quoted(unit)])
        }
        self.name = name
        self.value = value
        self.observedAt = observedAt
        self.source = source
        self.unit = unit
    }

    public var subject: Subject { .metric(name) }

    enum CodingKeys: String, CodingKey {
        case name, value
        case observedAt = "observed_at"
        case source, unit
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(MetricName.self, forKey: .name)
        let value = try container.decode(ExactDecimal.self, forKey: .value)
        let observedAt = try container.decodeTimestamp(forKey: .observedAt)
        let source = try container.decode(String.self, forKey: .source)
        let unit = try container.decodeIfPresent(String.self, forKey: .unit)
        self = try decoder.validating { () throws(GordonError) in
            try MetricEvent(name: name, value: value, observedAt: observedAt, source: source, unit: unit)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(value, forKey: .value)
        try container.encode(observedAt, forKey: .observedAt)
        try container.encode(source, forKey: .source)
        try container.encodeIfPresent(unit, forKey: .unit)
    }
}
