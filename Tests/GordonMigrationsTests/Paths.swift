import GordonTestDB

enum GordonTestPaths {
    static var migrations: String { TestEnvironment.migrationsDirectory }
}
