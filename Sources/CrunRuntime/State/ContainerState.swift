import Cgroups
import Glibc
import JSONCore
import OCISpec

/// What `state` reports and what is kept in <root>/<id>/state.json: the runtime-spec state
/// plus runc's extra fields (rootfs, created, owner) and what we need to recognise the init.
public struct ContainerState: Sendable {
    public enum Status: String, Sendable {
        case creating, created, running, paused, stopped
    }

    public var ociVersion: String
    public var id: String
    public var pid: Int32
    public var status: Status
    public var bundle: String
    public var rootfs: String
    public var created: String
    public var owner: String
    public var annotations: [String: String]?
    /// The init's start time (field 22 of /proc/<pid>/stat): tells our init from a reused pid.
    public var initStartTime: UInt64
    /// The container's cgroup directory (absolute), when it has one. Recorded before the
    /// cgroup is made, so that `delete --force` finds it after a crash of `create`.
    public var cgroupPath: String?
    /// cgroup v1: every directory of the container by controller ("unified": its cgroup2
    /// directory on a hybrid host). nil on cgroup v2.
    public var cgroupPaths: [String: String]?
    /// create --pid-file: removed by delete when it still names the init.
    public var pidFile: String?
    /// Status `creating` and a command holds the directory's lock: a create in progress (or the
    /// caller itself), not one a crash cut short.
    public var locked = false

    public init(id: String, pid: Int32, status: Status, bundle: String, rootfs: String, created: String,
                annotations: [String: String]?, initStartTime: UInt64) {
        self.ociVersion = CrunVersion.spec
        self.id = id
        self.pid = pid
        self.status = status
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.owner = ""
        self.annotations = annotations
        self.initStartTime = initStartTime
    }

    init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        ociVersion = try o.required("ociVersion")
        id = try o.required("id")
        pid = try o.required("pid")
        let s: String = try o.required("status")
        guard let status = Status(rawValue: s) else { throw JSONDecodeError(JSONValue.member(path, "status"), "unknown status \"\(s)\"") }
        self.status = status
        bundle = try o.required("bundle")
        rootfs = try o.required("rootfs")
        created = try o.required("created")
        owner = try o.optional("owner") ?? ""
        annotations = try o.optional("annotations")
        initStartTime = try o.required("initStartTime")
        cgroupPath = try o.optional("cgroupPath")
        cgroupPaths = try o.optional("cgroupPaths")
        pidFile = try o.optional("pidFile")
    }

    /// The init is the process we started and has not exited.
    public var initAlive: Bool {
        guard pid > 0, let stat = ProcStat(pid: pid) else { return false }
        return stat.startTime == initStartTime && stat.state != "Z" && stat.state != "X"
    }

    /// The status as it is now: a container whose init died is stopped.
    public var liveStatus: Status {
        if status == .creating { return initAlive || locked ? .creating : .stopped }
        guard initAlive else { return .stopped }
        if status == .running, let c = cgroupPath, Cgroup.isFrozen(directory: c) { return .paused }
        return status
    }

    /// The state as the runtime spec and runc print it (for `state`, `list`, hooks).
    public func specJSON(status: Status? = nil) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("ociVersion", .string(ociVersion)), ("id", .string(id)),
            ("pid", .number("\(liveStatus == .stopped && status == nil ? 0 : pid)")),
            ("status", .string((status ?? liveStatus).rawValue)),
            ("bundle", .string(bundle)), ("rootfs", .string(rootfs)),
            ("created", .string(created)), ("owner", .string(owner)),
        ]
        if let annotations, !annotations.isEmpty {
            pairs.append(("annotations", .object(annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        return .object(pairs)
    }

    /// What is stored: the spec state plus our own fields.
    func storedJSON() -> JSONValue {
        guard case .object(var members) = specJSON(status: status) else { return .null }
        members["pid"] = .number("\(pid)")
        members["initStartTime"] = .number("\(initStartTime)")
        if let cgroupPath { members["cgroupPath"] = .string(cgroupPath) }
        if let cgroupPaths, !cgroupPaths.isEmpty {
            members["cgroupPaths"] = .object(cgroupPaths.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        }
        if let pidFile { members["pidFile"] = .string(pidFile) }
        return .object(members)
    }
}

public enum CrunVersion {
    public static let version = "0.1.0"
    public static let spec = "1.3.0"
}

/// RFC 3339 with nanoseconds, UTC, as runc writes `created`.
func rfc3339Now() -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    var t = ts.tv_sec
    var tm = Glibc.tm()
    gmtime_r(&t, &tm)
    func pad(_ v: Int32, _ n: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, n - s.count)) + s
    }
    return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(ts.tv_nsec), 9))Z"
}
