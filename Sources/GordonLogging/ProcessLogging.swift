public import Logging

/// The log format of every Gordon process: JSON lines on standard error (the journal on the
/// device), each passed through the process's `SecretRedactor`.
public enum ProcessLogging {
    /// Once per process, before the first logger is made.
    public static func bootstrap(service: String, level: Logger.Level = .info, redactor: SecretRedactor = SecretRedactor()) {
        LoggingSystem.bootstrap { label in
            JSONLogHandler(label: label, service: service, level: level, redactor: redactor)
        }
    }
}
