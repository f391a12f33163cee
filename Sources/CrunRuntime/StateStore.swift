import Glibc
import JSONCore

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
            if errno == EEXIST { throw .container("container \"\(id)\" already exists") }
            throw .system(step: "create state directory", subject: path, errno: errno)
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
        while flock(fd, LOCK_EX) < 0 {
            if errno == EINTR { continue }
            let e = errno
            close(fd)
            throw .system(step: "lock state directory", subject: path, errno: e)
        }
        return Handle(id: id, path: path, fd: fd)
    }

    private func makeRoot() throws(RuntimeError) {
        var path = ""
        for part in root.split(separator: "/") {
            path += "/" + part
            if mkdir(path, 0o711) < 0 && errno != EEXIST {
                throw .system(step: "create state root", subject: path, errno: errno)
            }
        }
    }

    /// Reads a container's state; a missing or corrupt file is an error naming the id.
    public func read(_ id: String) throws(RuntimeError) -> ContainerState {
        let file = directory(id) + "/state.json"
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(file)
        } catch {
            if access(directory(id), F_OK) != 0 { throw .container("container \"\(id)\" does not exist") }
            throw .container("container \"\(id)\": no state (was its create interrupted?); `delete --force \(id)` removes it")
        }
        do {
            return try ContainerState(json: try JSONParser.parse(bytes), path: "")
        } catch {
            throw .container("container \"\(id)\": state file \(file) is corrupt (\(error))")
        }
    }

    /// Replaces state.json atomically (write a temp file, then rename). The init's identity
    /// also goes to a one-line `init` file, so that `delete --force` can still kill it when
    /// state.json is damaged.
    public func write(_ state: ContainerState, in handle: Handle) throws(RuntimeError) {
        try FileSystem.replaceFile(handle.path + "/init", contents: "\(state.pid) \(state.initStartTime)\n")
        try FileSystem.replaceFile(handle.path + "/state.json", contents: state.storedJSON().serialized())
    }

    /// The init recorded in the `init` file: pid and start time.
    public func recordedInit(_ handle: Handle) -> (pid: Int32, startTime: UInt64)? {
        guard let bytes = try? FileSystem.readFile(handle.path + "/init") else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count == 2, let pid = Int32(parts[0]), let start = UInt64(parts[1]) else { return nil }
        return (pid, start)
    }

    /// The ids of every container under the root, sorted.
    public func ids() -> [String] {
        guard let dir = opendir(root) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != "..", entry.pointee.d_type == UInt8(DT_DIR) { out.append(name) }
        }
        return out.sorted()
    }

    /// Removes a container's directory and what is in it (state.json, config.json, start.sock).
    public func remove(_ handle: Handle) throws(RuntimeError) {
        for name in ["state.json", "init", "config.json", "start.sock", "network.json"] { unlink(handle.path + "/" + name) }
        if rmdir(handle.path) < 0 && errno != ENOENT {
            throw .system(step: "remove state directory", subject: handle.path, errno: errno)
        }
    }
}
