public import GordonKernel

/// The program that published an event (DESIGN §2's executables).
///
/// A closed set: the NATS server lets only these users publish, so an unknown source is a
/// misconfigured or foreign publisher, and decoding it fails (`malformedEvent` at
/// `$.source`) instead of letting an unattributable event through.
public enum ServiceName: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case data = "gordon-data"
    case risk = "gordon-risk"
    case manager = "gordon-manager"
    case bot = "gordon-bot"
    case executor = "gordon-executor"
    case migrate = "gordon-migrate"
    case ctl = "gordonctl"
    case watchdog = "gordon-watchdog"

    public var description: String { rawValue }

    /// The source name of a service: the same name as its identity (names, users, keyfiles
    /// and NATS users all come from `ServiceIdentity`).
    public init(_ identity: ServiceIdentity) {
        guard let name = ServiceName(rawValue: identity.name) else {
            preconditionFailure("\(identity.name) has no ServiceName case")  // a test covers every identity
        }
        self = name
    }

    /// The identity of a service source; nil for the operator's and the watchdog's tools.
    public var identity: ServiceIdentity? { ServiceIdentity.named(rawValue) }
}
