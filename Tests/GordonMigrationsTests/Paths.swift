import GordonTestDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum GordonTestPaths {
    static var migrations: String { TestEnvironment.migrationsDirectory }

    /// gordon-migrate is built next to the test bundle (the test target depends on it).
    static var migrateBinary: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let executable = count > 0 ? String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        let directory = executable.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return directory + "/gordon-migrate"
    }
}
