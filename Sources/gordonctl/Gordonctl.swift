import ArgumentParser
import GordonKernel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// gordonctl: the operator's command line (used over SSH on the device, or offline on a
/// laptop for backtests).
///
/// Exit status 0 on success; on bad input, 2 with one line on stderr saying what was wrong.
@main
struct Gordonctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordonctl",
        abstract: "Operate Gordon: backtest strategies offline, list them, generate test data.",
        subcommands: [BacktestCommand.self, StrategiesCommand.self, SynthCommand.self]
    )

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as GordonError {
            fail(error.description)
        } catch {
            // Help requests arrive here too and are not failures.
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                terminate(0)
            }
            fail(fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        standardError("gordonctl: error: " + message + "\n")
        terminate(2)
    }
}

func terminate(_ status: Int32) -> Never { exit(status) }

func standardError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
