public import GordonKernel

/// A row of `public.schema_migrations`.
public struct AppliedMigration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let checksum: String
    /// Milliseconds since the Unix epoch, UTC.
    public let appliedAtMilliseconds: Int64

    public init(version: Int, name: String, checksum: String, appliedAtMilliseconds: Int64) {
        self.version = version
        self.name = name
        self.checksum = checksum
        self.appliedAtMilliseconds = appliedAtMilliseconds
    }
}

/// What a directory of files means for a database that has applied some of them.
/// Pure: decided from the two lists alone, so every rule is tested without a server.
public struct MigrationPlan: Sendable, Equatable {
    public let applied: [AppliedMigration]
    public let pending: [MigrationFile]

    /// Refuses a database whose history disagrees with the files: an applied file edited
    /// since (its checksum changed), or an applied version no file provides any more
    /// (the database is ahead of this directory). With `databaseMayBeAhead`, versions newer
    /// than every file are accepted: a release rolled back runs on the schema a newer one
    /// migrated (migrations are additive, and the services accept a newer schema).
    public init(files: [MigrationFile], applied: [AppliedMigration], databaseMayBeAhead: Bool = false) throws(GordonError) {
        let filesByVersion = Dictionary(files.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
        let newestFile = files.map(\.version).max() ?? 0
        for record in applied.sorted(by: { $0.version < $1.version }) {
            if databaseMayBeAhead, record.version > newestFile { continue }
            guard let file = filesByVersion[record.version] else {
                throw GordonError(
                    .schemaUnknownMigration,
                    "database has migration \(MigrationFile.format(record.version))_\(record.name) that the migrations directory lacks",
                    context: ["version": MigrationFile.format(record.version)])
            }
            guard file.checksum == record.checksum else {
                throw GordonError(
                    .migrationChecksumMismatch,
                    "applied migration \(file.fileName) was edited after it was applied; add a new migration instead",
                    context: ["file": file.fileName, "applied": record.checksum, "now": file.checksum])
            }
        }
        let appliedVersions = Set(applied.map(\.version))
        self.applied = applied.sorted { $0.version < $1.version }
        self.pending = files.filter { !appliedVersions.contains($0.version) }.sorted { $0.version < $1.version }
    }
}
