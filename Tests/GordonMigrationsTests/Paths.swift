import GordonTestDB

enum GordonTestPaths {
    static var migrations: String { TestEnvironment.migrationsDirectory }

    static var migrateBinary: String { TestEnvironment.builtExecutable("gordon-migrate") }
}
