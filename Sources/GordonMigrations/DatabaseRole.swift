import GordonKernel

/// The six login roles of DESIGN §5, one per runtime service plus the lab reader.
public enum DatabaseRole: String, Sendable, CaseIterable, Hashable {
    case dataWriter = "gordon_data_writer"
    case executor = "gordon_executor"
    case risk = "gordon_risk"
    case manager = "gordon_manager"
    case bot = "gordon_bot"
    case labReader = "gordon_lab_reader"

    /// The service whose keyfile holds this role's password, if any (from `ServiceIdentity`).
    public var service: String? {
        ServiceIdentity.all.first { $0.databaseRole == rawValue }?.name
    }
}
