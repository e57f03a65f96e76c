import CGordonSpawn
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A Unix account from the passwd file: read directly, so the static binary needs no NSS.
public struct UnixUser: Sendable, Equatable {
    public let name: String
    public let uid: UInt32
    public let gid: UInt32
    public let home: String

    public static func lookup(_ name: String, passwdFile: String = "/etc/passwd") throws(LaunchError) -> UnixUser {
        guard let text = readTextFile(passwdFile) else { throw LaunchError("cannot read \(passwdFile)") }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 7, fields[0] == name, let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else { continue }
            return UnixUser(name: name, uid: uid, gid: gid, home: String(fields[5]))
        }
        throw LaunchError("no user \"\(name)\" in \(passwdFile)")
    }
}

public struct LaunchError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Starts commands as child processes: as their configured user, with a clean environment
/// (PATH, HOME, USER, LOGNAME and the command's own variables; nothing of the caller's),
/// stdin from /dev/null unless piped.
public enum ProcessLauncher {
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// `stdout`/`stderr`: a descriptor to write to; nil inherits the caller's own (on the device, the journal).
    public static func spawn(_ command: ProcessCommand, stdin: Int32 = -1, stdout: Int32? = nil,
                             stderr: Int32? = nil, passwdFile: String = "/etc/passwd") throws(LaunchError) -> Int32 {
        var environment = ["PATH": defaultPath]
        var identity: UnixUser?
        if let name = command.user {
            let user = try UnixUser.lookup(name, passwdFile: passwdFile)
            if getuid() == 0 {
                identity = user
            } else if user.uid != getuid() {
                throw LaunchError("running \(command.name) as \(name) needs root")
            }
            environment["HOME"] = user.home
            environment["USER"] = name
            environment["LOGNAME"] = name
        }
        for (key, value) in command.environment { environment[key] = value }

        let argv = ([command.executable] + command.arguments).map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let error: Int32 = command.executable.withCString { path in
            argv.withUnsafeBufferPointer { argvBuffer in
                envp.withUnsafeBufferPointer { envpBuffer in
                    var request = gordon_spawn_request()
                    request.path = path
                    request.argv = argvBuffer.baseAddress
                    request.envp = envpBuffer.baseAddress
                    request.directory = nil
                    request.set_identity = identity == nil ? 0 : 1
                    request.uid = identity?.uid ?? 0
                    request.gid = identity?.gid ?? 0
                    request.stdin_fd = stdin
                    request.stdout_fd = stdout ?? 1
                    request.stderr_fd = stderr ?? 2
                    return gordon_spawn(&request, &pid)
                }
            }
        }
        guard error == 0 else {
            throw LaunchError("cannot start \(command.name) (\(command.executable)): \(String(cString: strerror(error)))")
        }
        return pid
    }

    /// Starts `commands` as a pipeline, each one's stdout into the next one's stdin; the last
    /// one's stdout, and every stderr, go to `output(index)` (nil: inherited). On a failure
    /// the processes already started are killed and reaped.
    public static func spawnPipeline(_ commands: [ProcessCommand], output: (Int) -> Int32?,
                                     passwdFile: String = "/etc/passwd") throws(LaunchError) -> [Int32] {
        var pids: [Int32] = []
        var previousRead: Int32 = -1
        defer { if previousRead >= 0 { close(previousRead) } }
        for (index, command) in commands.enumerated() {
            var pipeEnds: [Int32] = [-1, -1]
            let last = index == commands.count - 1
            if !last {
                guard gordon_pipe_cloexec(&pipeEnds) == 0 else {
                    terminate(pids)
                    throw LaunchError("pipe: \(String(cString: strerror(errno)))")
                }
            }
            do {
                let pid = try spawn(command, stdin: previousRead, stdout: last ? output(index) : pipeEnds[1],
                                    stderr: output(index), passwdFile: passwdFile)
                pids.append(pid)
            } catch {
                if !last {
                    close(pipeEnds[0])
                    close(pipeEnds[1])
                }
                terminate(pids)
                throw error
            }
            // The parent keeps no pipe end: the reader must see EOF when the writer exits.
            if previousRead >= 0 { close(previousRead) }
            previousRead = -1
            if !last {
                close(pipeEnds[1])
                previousRead = pipeEnds[0]
            }
        }
        return pids
    }

    private static func terminate(_ pids: [Int32]) {
        for pid in pids {
            kill(-pid, SIGKILL)
            _ = waitForExit(pid)
        }
    }

    /// Blocks until `pid` exits (for the one-shot commands, not the supervising loop).
    public static func waitForExit(_ pid: Int32) -> ExitStatus {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return .notStarted("waitpid: \(String(cString: strerror(errno)))") }
        }
        return exitStatus(fromWaitStatus: status)
    }

    /// Decodes waitpid's status word (the WIFEXITED/WTERMSIG macros, which Swift cannot import).
    public static func exitStatus(fromWaitStatus status: Int32) -> ExitStatus {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }
}

/// The whole file as UTF-8, or nil.
public func readTextFile(_ path: String) -> String? {
    readFile(path).map { String(decoding: $0, as: UTF8.self) }
}

/// The whole file, or nil (errno says why).
public func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        guard count >= 0 else { return nil }
        if count == 0 { break }
        bytes += buffer[0..<count]
    }
    return bytes
}

