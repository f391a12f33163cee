public struct Process: Codable, Sendable {
    public var terminal: Bool?
    public var consoleSize: ConsoleSize?
    public var user: User
    public var args: [String]?
    public var commandLine: String?
    public var env: [String]?
    public var cwd: String
    public var capabilities: Capabilities?
    public var rlimits: [Rlimit]?
    public var noNewPrivileges: Bool?
    public var apparmorProfile: String?
    public var oomScoreAdj: Int?
    public var selinuxLabel: String?
    public var ioPriority: IOPriority?
    public var scheduler: Scheduler?
    public var execCPUAffinity: CPUAffinity?

    public init(user: User, args: [String], env: [String], cwd: String) {
        self.user = user
        self.args = args
        self.env = env
        self.cwd = cwd
    }
}

public struct ConsoleSize: Codable, Sendable {
    public var height: UInt32
    public var width: UInt32
}

public struct User: Codable, Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var umask: UInt32?
    public var additionalGids: [UInt32]?
    public var username: String?

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }
}

public struct Capabilities: Codable, Sendable {
    public var bounding: [String]?
    public var effective: [String]?
    public var inheritable: [String]?
    public var permitted: [String]?
    public var ambient: [String]?

    public init() {}
}

public struct Rlimit: Codable, Sendable {
    public var type: String
    public var hard: UInt64
    public var soft: UInt64
}

public struct IOPriority: Codable, Sendable {
    public var `class`: String
    public var priority: Int?
}

public struct Scheduler: Codable, Sendable {
    public var policy: String
    public var nice: Int32?
    public var priority: Int32?
    public var flags: [String]?
    public var runtime: UInt64?
    public var deadline: UInt64?
    public var period: UInt64?
}

public struct CPUAffinity: Codable, Sendable {
    public var initial: String?
    public var final: String?
}
