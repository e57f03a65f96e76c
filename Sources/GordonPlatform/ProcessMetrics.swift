#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import GordonProcess
import NIOConcurrencyHelpers

/// The process's own footprint, as Prometheus's client libraries name it, so a dashboard
/// shows each service's memory and CPU beside its work (the device's budget is 100 MB for
/// the five services together).
extension MetricsRegistry {
    public func exportProcess() {
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        sampledGauge(name: "process_resident_memory_bytes", help: "Resident memory size in bytes") {
            readTextFile("/proc/self/statm").flatMap { ProcessMetrics.residentPages(statm: $0) }.map { $0 * pageSize } ?? .nan
        }
        // A counter, as Prometheus's name says: each scrape adds what was spent since the last.
        let cpu = prometheus.makeCounter(descriptor: Self.descriptor("process_cpu_seconds_total", "User and system CPU time spent in seconds"))
        let counted = NIOLockedValueBox(0.0)
        addSampler {
            guard let seconds = readTextFile("/proc/self/stat").flatMap({ ProcessMetrics.cpuTicks(stat: $0) }).map({ $0 / ticks }) else { return }
            let spent = counted.withLockedValue { counted in
                defer { counted = max(counted, seconds) }
                return max(0, seconds - counted)
            }
            if spent > 0 { cpu.increment(by: spent) }
        }
    }
}

enum ProcessMetrics {
    /// `/proc/self/statm`'s second field: resident pages.
    static func residentPages(statm: String) -> Double? {
        let fields = statm.split(separator: " ")
        return fields.count > 1 ? Double(fields[1]) : nil
    }

    /// utime + stime from `/proc/self/stat` (fields 14 and 15), counted after the command
    /// name's closing parenthesis, since the name itself may hold spaces.
    static func cpuTicks(stat: String) -> Double? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After ")": state is field 3, so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return user + system
    }
}
