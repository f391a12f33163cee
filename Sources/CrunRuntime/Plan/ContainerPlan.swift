import OCISpec
import Seccomp

/// Everything the child needs, decided by the parent: resolved paths, flags, numbers. The C
/// executor receives this flattened (CPlan.swift); tests inspect it directly.
public struct ContainerPlan: Sendable {
    public struct NamespaceJoin: Equatable, Sendable {
        public var kind: NamespaceKind
        public var path: String
        public var configIndex: Int
    }

    public struct PlannedMount: Equatable, Sendable {
        public var source: String?
        public var destination: String
        public var fstype: String?
        public var data: String?
        public var flags: UInt
        public var propagation: UInt
        public var attrSet: UInt64
        public var attrClear: UInt64
        public var destinationIsFile: Bool
        public var remount: Bool
        public var sysfsFallback: Bool
        public var configIndex: Int
        /// An idmapped bind mount: the runtime makes the tree, the init moves it into place.
        public var idmap: PlannedIdmap? = nil
    }

    /// The mapping of an idmapped mount: the maps of a user namespace the runtime creates for
    /// it, or a user namespace the container joins (an `idmap` mount without mappings).
    public struct PlannedIdmap: Equatable, Sendable {
        public var uidMap: String
        public var gidMap: String
        public var userNamespacePath: String?
        /// ridmap: the submounts of an rbind are idmapped too.
        public var recursive: Bool

        public init(uidMap: String, gidMap: String, userNamespacePath: String?, recursive: Bool) {
            (self.uidMap, self.gidMap, self.userNamespacePath, self.recursive) = (uidMap, gidMap, userNamespacePath, recursive)
        }
    }

    public struct PlannedDevice: Equatable, Sendable {
        public var path: String
        public var type: Character
        public var major: Int64
        public var minor: Int64
        public var mode: UInt32
        public var uid: UInt32
        public var gid: UInt32

        public init(path: String, type: Character, major: Int64, minor: Int64, mode: UInt32, uid: UInt32, gid: UInt32) {
            (self.path, self.type, self.major, self.minor, self.mode, self.uid, self.gid) = (path, type, major, minor, mode, uid, gid)
        }
    }

    public struct Limit: Equatable, Sendable {
        public var resource: Int32
        public var soft: UInt64
        public var hard: UInt64

        public init(resource: Int32, soft: UInt64, hard: UInt64) {
            (self.resource, self.soft, self.hard) = (resource, soft, hard)
        }
    }

    public struct CapabilitySets: Equatable, Sendable {
        public var bounding: UInt64 = 0
        public var effective: UInt64 = 0
        public var permitted: UInt64 = 0
        public var inheritable: UInt64 = 0
        public var ambient: UInt64 = 0

        public init(bounding: UInt64 = 0, effective: UInt64 = 0, permitted: UInt64 = 0, inheritable: UInt64 = 0, ambient: UInt64 = 0) {
            (self.bounding, self.effective, self.permitted, self.inheritable, self.ambient) = (bounding, effective, permitted, inheritable, ambient)
        }
    }

    /// Join a running container instead of building one (exec, hooks in its namespaces).
    public var execMode = false
    /// Stop before pivot_root so that createRuntime/createContainer hooks can run.
    public var hookPause = false
    /// The executable to run when it is not argv[0] looked up on PATH (hooks).
    public var executablePath: String?

    // Namespaces
    public var cloneFlags: UInt64 = 0
    public var unshareFlags: UInt64 = 0
    public var joins: [NamespaceJoin] = []
    public var pidNamespacePath: String?
    public var newUserNamespace = false
    public var becomeRoot = false
    public var uidMap = ""
    public var gidMap = ""
    public var timeNamespace = false
    public var timeOffsets = ""
    public var hostname: String?
    public var domainname: String?

    // Root filesystem
    public var rootfs = ""
    public var rootPropagation: UInt = 0
    public var rootfsPropagation: UInt = 0
    public var noPivot = false
    public var readonlyRoot = false
    public var mounts: [PlannedMount] = []
    public var defaultDevices = true
    public var bindDevices = false
    public var devices: [PlannedDevice] = []
    public var maskedPaths: [String] = []
    public var readonlyPaths: [String] = []
    public var sysctl: [(key: String, value: String)] = []

    // Process
    public var args: [String] = []
    public var env: [String] = []
    public var pathForLookup: String?
    public var cwd = "/"
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var additionalGids: [UInt32] = []
    public var umask: Int32 = 0o022
    public var capabilities: CapabilitySets?
    public var rlimits: [Limit] = []
    public var noNewPrivileges = false
    public var oomScoreAdj: Int?
    public var personality: Int64 = -1
    public var terminal = false
    public var consoleWidth: UInt16 = 0
    public var consoleHeight: UInt16 = 0
    public var preserveFds = 0

    /// The seccomp filter, compiled.
    public var seccomp: SeccompProgram?
    /// process.apparmorProfile, applied at execve (only where AppArmor is enabled).
    public var apparmorProfile: String?

    /// Settings in the config that this build does not apply, one line each, for the user.
    public var warnings: [String] = []
    /// Details for --debug (e.g. syscalls the seccomp profile names that this kernel lacks).
    public var notes: [String] = []

    public init() {}
}
