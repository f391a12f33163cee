import JSONCore

public struct Process: Sendable {
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

extension Process: JSONDecodable {
    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        terminal = try o.optional("terminal")
        consoleSize = try o.optional("consoleSize")
        user = try o.required("user")
        args = try o.optional("args")
        commandLine = try o.optional("commandLine")
        env = try o.optional("env")
        cwd = try o.required("cwd")
        capabilities = try o.optional("capabilities")
        rlimits = try o.optional("rlimits")
        noNewPrivileges = try o.optional("noNewPrivileges")
        apparmorProfile = try o.optional("apparmorProfile")
        oomScoreAdj = try o.optional("oomScoreAdj")
        selinuxLabel = try o.optional("selinuxLabel")
        ioPriority = try o.optional("ioPriority")
        scheduler = try o.optional("scheduler")
        execCPUAffinity = try o.optional("execCPUAffinity")
    }
}

public struct ConsoleSize: Sendable, JSONDecodable {
    public var height: UInt32
    public var width: UInt32

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        height = try o.required("height")
        width = try o.required("width")
    }
}

public struct User: Sendable, JSONDecodable {
    public var uid: UInt32
    public var gid: UInt32
    public var umask: UInt32?
    public var additionalGids: [UInt32]?
    public var username: String?

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        uid = try o.required("uid")
        gid = try o.required("gid")
        umask = try o.optional("umask")
        additionalGids = try o.optional("additionalGids")
        username = try o.optional("username")
    }
}

public struct Capabilities: Sendable, JSONDecodable {
    public var bounding: [String]?
    public var effective: [String]?
    public var inheritable: [String]?
    public var permitted: [String]?
    public var ambient: [String]?

    public init() {}

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        bounding = try o.optional("bounding")
        effective = try o.optional("effective")
        inheritable = try o.optional("inheritable")
        permitted = try o.optional("permitted")
        ambient = try o.optional("ambient")
    }
}

public struct Rlimit: Sendable, JSONDecodable {
    public var type: String
    public var hard: UInt64
    public var soft: UInt64

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        type = try o.required("type")
        hard = try o.required("hard")
        soft = try o.required("soft")
    }
}

public struct IOPriority: Sendable, JSONDecodable {
    public var `class`: String
    public var priority: Int?

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        `class` = try o.required("class")
        priority = try o.optional("priority")
    }
}

public struct Scheduler: Sendable, JSONDecodable {
    public var policy: String
    public var nice: Int32?
    public var priority: Int32?
    public var flags: [String]?
    public var runtime: UInt64?
    public var deadline: UInt64?
    public var period: UInt64?

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        policy = try o.required("policy")
        nice = try o.optional("nice")
        priority = try o.optional("priority")
        flags = try o.optional("flags")
        runtime = try o.optional("runtime")
        deadline = try o.optional("deadline")
        period = try o.optional("period")
    }
}

public struct CPUAffinity: Sendable, JSONDecodable {
    public var initial: String?
    public var final: String?

    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        let o = try JSONObject(json, path: path)
        initial = try o.optional("initial")
        final = try o.optional("final")
    }
}
