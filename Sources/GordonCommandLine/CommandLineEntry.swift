public import ArgumentParser
import GordonKernel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The `main` of every Gordon executable: parse, run, and on failure exactly one line on
/// standard error, `NAME: error: MESSAGE` (a `GordonError` leads with its stable code), and
/// the command's failure status. Help and version requests print to standard output and
/// exit 0.
public enum CommandLineEntry {
    /// For commands with async subcommands.
    public static func main<Command: ParsableCommand>(_ command: Command.Type, failureStatus: Int32) async -> Never {
        let name = Command.configuration.commandName ?? "\(Command.self)"
        do {
            var parsed = try Command.parseAsRoot()
            if var asyncCommand = parsed as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try parsed.run()
            }
            exit(0)
        } catch {
            finish(error, command: Command.self, name: name, failureStatus: failureStatus)
        }
    }

    /// For synchronous commands that must not start the concurrency runtime's threads
    /// (the watchdog blocks signals before any thread exists).
    public static func mainSynchronously<Command: ParsableCommand>(_ command: Command.Type, failureStatus: Int32) -> Never {
        let name = Command.configuration.commandName ?? "\(Command.self)"
        do {
            var parsed = try Command.parseAsRoot()
            try parsed.run()
            exit(0)
        } catch {
            finish(error, command: Command.self, name: name, failureStatus: failureStatus)
        }
    }

    private static func finish<Command: ParsableCommand>(_ error: any Error, command: Command.Type, name: String,
                                                         failureStatus: Int32) -> Never {
        if let gordon = error as? GordonError { fail(name: name, gordon.description, status: failureStatus) }
        // A subcommand's `throw ExitCode(n)` means it has said what it had to say.
        if let code = error as? ExitCode { exit(code.rawValue) }
        let status = Command.exitCode(for: error)
        if status == .success {
            print(Command.fullMessage(for: error))
            exit(0)
        }
        fail(name: name, errorLine(Command.fullMessage(for: error)), status: failureStatus)
    }

    /// ArgumentParser's message cut to the line that says what was wrong.
    static func errorLine(_ message: String) -> String {
        let first = message.split(separator: "\n").first.map(String.init) ?? message
        return first.hasPrefix("Error: ") ? String(first.dropFirst("Error: ".count)) : first
    }

    public static func fail(name: String, _ message: String, status: Int32) -> Never {
        writeStandardError("\(name): error: \(message.split(separator: "\n").joined(separator: " "))\n")
        exit(status)
    }

    public static func writeStandardError(_ text: String) {
        StandardStream.write(text, to: StandardStream.error)
    }
}
