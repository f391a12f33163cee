import Cgroups
import Glibc
import JSONCore
import LinuxSys

/// Container state under a root directory: one directory per container, state.json replaced
/// atomically, and a lock (flock on the directory) held by each command that changes it, so
/// commands on one container serialize and commands on different containers do not.
public struct StateStore {
    public let root: String

    public init(root: String) { self.root = root }

    public func directory(_ id: String) -> String { root + "/" + id }

    /// A locked container directory. The lock goes with the value.
    public final class Handle {
        public let id: String
        public let path: String
        public let fd: Int32

        init(id: String, path: String, fd: Int32) {
            self.id = id
            self.path = path
            self.fd = fd
        }

        deinit { close(fd) }

        /// A path inside the directory that stays short enough for a unix socket address.
        public var shortPath: String { "/proc/self/fd/\(fd)" }
    }

    /// Makes the directory of a new container and locks it.
    public func create(_ id: String) throws(RuntimeError) -> Handle {
        try makeRoot()
        let path = directory(id)
        if mkdir(path, 0o711) < 0 {
            let e = errno
            if e == EEXIST { throw .container("container \"\(id)\" already exists") }
            if geteuid() != 0 && (e == EACCES || e == EPERM) { throw .container(StateStore.notRootHint("create state directory", path, e)) }
            throw .system(step: "create state directory", subject: path, errno: e)
        }
        return try lock(id, path: path)
    }

    /// Locks an existing container's directory.
    public func open(_ id: String) throws(RuntimeError) -> Handle {
        let path = directory(id)
        guard access(path, F_OK) == 0 else { throw .container("container \"\(id)\" does not exist") }
        return try lock(id, path: path)
    }

    private func lock(_ id: String, path: String) throws(RuntimeError) -> Handle {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { throw .container("container \"\(id)\" does not exist") }
            throw .system(step: "open state directory", subject: path, errno: errno)
        }
        do { try Files.lock(fd: fd, path: path) } catch {
            close(fd)
            throw .system(step: "lock state directory", subject: path, errno: error.errno)
        }
        return Handle(id: id, path: path, fd: fd)
    }

    static func notRootHint(_ step: String, _ path: String, _ e: Int32) -> String {
        "\(step) `\(path)`: \(errnoString(e)) (running as uid \(geteuid()), not root: set XDG_RUNTIME_DIR"
            + " (state then goes to $XDG_RUNTIME_DIR/crun-swift) or pass --root DIR)"
    }

    private func makeRoot() throws(RuntimeError) {
        // A user's root (under $XDG_RUNTIME_DIR) is theirs alone, as runc's.
        let mode: mode_t = geteuid() == 0 ? 0o711 : 0o700
        if mkdir(root, mode) == 0 || errno == EEXIST { return }  // the usual case: one call
        do { try Files.makeDirectories(root, mode: mode) } catch {
            let path = error.path ?? root, e = error.errno
            if geteuid() != 0 && (e == EACCES || e == EPERM) { throw .container(StateStore.notRootHint("create state root", path, e)) }
            throw .system(step: "create state root", subject: path, errno: e)
        }
    }

    /// Reads a container's state; a corrupt file is an error naming the id. A directory whose
    /// create was cut short before state.json was written reads as a container still being
    /// created (stopped once its init, if any, is gone): list and state show it, delete removes it.
    public func read(_ id: String) throws(RuntimeError) -> ContainerState {
        let dir = directory(id)
        let file = dir + "/state.json"
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(file)
        } catch {
            if access(dir, F_OK) != 0 { throw .container("container \"\(id)\" does not exist") }
            var state = ContainerState(id: id, pid: 0, status: .creating, bundle: "", rootfs: "", created: "",
                                       annotations: nil, initStartTime: 0)
            if let recorded = recordedInit(directory: dir) { (state.pid, state.initStartTime) = recorded }
            state.cgroupPath = recordedCgroup(directory: dir)
            state.cgroupPaths = recordedCgroupPaths(directory: dir)
            state.locked = isLocked(dir)
            return state
        }
        var state: ContainerState
        do {
            state = try ContainerState(json: try JSONParser.parse(bytes), path: "")
        } catch {
            throw .container("container \"\(id)\": state file \(file) is corrupt (\(error))")
        }
        // The init is recorded the moment it is cloned, before state.json says more.
        if state.status == .creating {
            if state.pid == 0, let recorded = recordedInit(directory: dir) { (state.pid, state.initStartTime) = recorded }
            state.locked = isLocked(dir)
        }
        return state
    }

    /// Replaces state.json atomically (write a temp file, then rename).
    public func write(_ state: ContainerState, in handle: Handle) throws(RuntimeError) {
        try FileSystem.replaceFile(handle.path + "/state.json", contents: state.storedJSON().serialized())
    }

    /// Records a just-cloned init (pid and start time) in a one-line `init` file, before
    /// anything else is known of it; `delete --force` also finds it there when state.json is
    /// damaged. Written once, in one write.
    public func recordInit(_ pid: pid_t, startTime: UInt64, in handle: Handle) throws(RuntimeError) {
        try FileSystem.createFile(handle.path + "/init", contents: Array("\(pid) \(startTime)\n".utf8))
    }

    /// Records the container's cgroup before it is made (one write of a new file: cheaper than
    /// replacing state.json, which then carries it): its path, then on cgroup v1 one
    /// "CONTROLLER DIRECTORY" line per controller.
    public func recordCgroup(_ path: String, controllers: [String: String] = [:], in handle: Handle) throws(RuntimeError) {
        let lines = controllers.sorted { $0.key < $1.key }.map { "\n\($0.key) \($0.value)" }.joined()
        try FileSystem.createFile(handle.path + "/cgroup", contents: path + lines)
    }

    /// Adds the parent cgroups create made for it (a systemd slice...), outermost first, for
    /// delete to remove when they are empty.
    public func recordCgroupParents(_ dirs: [String], in handle: Handle) throws(RuntimeError) {
        let path = handle.path + "/cgroup"
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        if fd < 0 { throw .system(step: "open", subject: path, errno: errno) }
        defer { close(fd) }
        var text = dirs.map { "\n" + $0 }.joined()
        let n = text.withUTF8 { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw .system(step: "write", subject: path, errno: errno) }
    }

    func recordedCgroup(directory: String) -> String? {
        guard let bytes = try? FileSystem.readFile(directory + "/cgroup"), !bytes.isEmpty else { return nil }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init)
    }

    func recordedCgroupParents(directory: String) -> [String] {
        guard let bytes = try? FileSystem.readFile(directory + "/cgroup") else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst().filter { $0.hasPrefix("/") }.map(String.init)
    }

    /// The v1 "CONTROLLER DIRECTORY" lines of the `cgroup` file (nil: none, cgroup v2).
    func recordedCgroupPaths(directory: String) -> [String: String]? {
        guard let bytes = try? FileSystem.readFile(directory + "/cgroup") else { return nil }
        var out: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst() where !line.hasPrefix("/") {
            guard let space = line.firstIndex(of: " ") else { continue }
            out[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return out.isEmpty ? nil : out
    }

    /// Some command holds the directory's lock (also true for the caller's own handle).
    func isLocked(_ dir: String) -> Bool {
        let fd = Glibc.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK
    }

    /// The init recorded in the `init` file: pid and start time.
    public func recordedInit(_ handle: Handle) -> (pid: Int32, startTime: UInt64)? {
        recordedInit(directory: handle.path)
    }

    func recordedInit(directory: String) -> (pid: Int32, startTime: UInt64)? {
        guard let bytes = try? FileSystem.readFile(directory + "/init") else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, let start = UInt64(parts[1]) else { return nil }
        return (pid, start)
    }

    /// The ids of every container under the root, sorted.
    public func ids() -> [String] {
        (Files.entries(root, type: UInt8(DT_DIR)) ?? []).sorted()
    }

    /// Removes a container's directory whatever it holds (temp files of a cut-short write, the
    /// network directory): entries are removed under the directory's descriptor, never
    /// following a symlink out of it; a mount point left inside is detached first.
    public func remove(_ handle: Handle) throws(RuntimeError) {
        let e = StateStore.removeContents(of: handle.fd, path: handle.path, depth: 0)
        if e != 0 { throw .system(step: "remove state directory", subject: handle.path, errno: e) }
        if rmdir(handle.path) < 0 && errno != ENOENT {
            throw .system(step: "remove state directory", subject: handle.path, errno: errno)
        }
    }

    /// 0, or the errno of the first entry that could not be removed.
    static func removeContents(of dirfd: Int32, path: String, depth: Int) -> Int32 {
        guard depth < 16 else { return ELOOP }
        guard let entries = Files.entries(directoryFd: dirfd) else { return errno }
        let names = entries.map { entry in
            var isDir = entry.type == UInt8(DT_DIR)
            if entry.type == UInt8(DT_UNKNOWN) {
                var st = stat()
                isDir = fstatat(dirfd, entry.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
            }
            return (entry.name, isDir)
        }
        for (name, isDir) in names {
            if isDir {
                let sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if sub >= 0 {
                    let e = removeContents(of: sub, path: path + "/" + name, depth: depth + 1)
                    close(sub)
                    if e != 0 { return e }
                }
            }
            if unlinkat(dirfd, name, isDir ? AT_REMOVEDIR : 0) == 0 || errno == ENOENT { continue }
            // A mount point (the network namespace's bind mount): detach it, then remove it.
            guard errno == EBUSY, umount2(path + "/" + name, Int32(MNT_DETACH) | Int32(UMOUNT_NOFOLLOW)) == 0,
                  unlinkat(dirfd, name, isDir ? AT_REMOVEDIR : 0) == 0 || errno == ENOENT
            else { return errno }
        }
        return 0
    }
}
