import ArgumentParser
import GordonStrategy

struct StrategiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strategies",
        abstract: "List the entry strategies, overlays and sizing rules with their parameters and defaults."
    )

    func run() throws {
        print("Strategies (--strategy NAME --param k=v):")
        for descriptor in StrategyCatalog.all { describe(descriptor.name, descriptor.summary, descriptor.parameters) }
        print("\nOverlays (--overlay NAME[:k=v,...]):")
        for descriptor in Overlay.catalog { describe(descriptor.name, descriptor.summary, descriptor.parameters) }
        print("\nSizing (--sizing NAME[:k=v,...]):")
        for descriptor in Sizing.catalog { describe(descriptor.name, descriptor.summary, descriptor.parameters) }
    }

    private func describe(_ name: String, _ summary: String, _ parameters: [ParameterSpec]) {
        print("  \(name): \(summary)")
        for spec in parameters {
            let range = "\(Format.fixed(spec.range.lowerBound, spec.isInteger ? 0 : 2))..\(Format.fixed(spec.range.upperBound, spec.isInteger ? 0 : 2))"
            print("      \(spec.name) = \(Format.fixed(spec.defaultValue, spec.isInteger ? 0 : 4))  [\(range)]  \(spec.summary)")
        }
    }
}
