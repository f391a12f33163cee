import CShim

/// The mount options of one `mounts[]` entry, turned into what mount(2) and mount_setattr(2)
/// take. The table is runc's (libcontainer/specconv), so configs mean the same thing here.
public struct MountOptions: Equatable, Sendable {
    public var flags: UInt = 0
    public var propagation: [UInt] = []
    public var attrSet: UInt64 = 0
    public var attrClear: UInt64 = 0
    /// Options the kernel interprets per filesystem (size=, mode=, ...), in order.
    public var data: [String] = []
    /// Options accepted but not applied by this build.
    public var ignored: [String] = []

    public var isBind: Bool { flags & CS_MS_BIND != 0 }
    public var isRecursiveBind: Bool { isBind && flags & CS_MS_REC != 0 }

    private enum Effect {
        case set(UInt), clear(UInt), propagation(UInt), attr(set: UInt64, clear: UInt64), ignore
        /// Applied outside the flags: idmap and ridmap (ContainerPlan.PlannedIdmap).
        case idmap
    }

    private static let table: [String: Effect] = [
        "async": .clear(CS_MS_SYNCHRONOUS), "atime": .clear(CS_MS_NOATIME), "bind": .set(CS_MS_BIND),
        "defaults": .set(0), "dev": .clear(CS_MS_NODEV), "diratime": .clear(CS_MS_NODIRATIME),
        "dirsync": .set(CS_MS_DIRSYNC), "exec": .clear(CS_MS_NOEXEC), "iversion": .set(CS_MS_I_VERSION),
        "lazytime": .set(CS_MS_LAZYTIME), "loud": .clear(CS_MS_SILENT), "mand": .set(CS_MS_MANDLOCK),
        "noatime": .set(CS_MS_NOATIME), "nodev": .set(CS_MS_NODEV), "nodiratime": .set(CS_MS_NODIRATIME),
        "noexec": .set(CS_MS_NOEXEC), "noiversion": .clear(CS_MS_I_VERSION), "nolazytime": .clear(CS_MS_LAZYTIME),
        "nomand": .clear(CS_MS_MANDLOCK), "norelatime": .clear(CS_MS_RELATIME),
        "nostrictatime": .clear(CS_MS_STRICTATIME), "nosuid": .set(CS_MS_NOSUID),
        "nosymfollow": .set(CS_MS_NOSYMFOLLOW), "rbind": .set(CS_MS_BIND | CS_MS_REC),
        "relatime": .set(CS_MS_RELATIME), "remount": .set(CS_MS_REMOUNT), "ro": .set(CS_MS_RDONLY),
        "rw": .clear(CS_MS_RDONLY), "silent": .set(CS_MS_SILENT), "strictatime": .set(CS_MS_STRICTATIME),
        "suid": .clear(CS_MS_NOSUID), "sync": .set(CS_MS_SYNCHRONOUS), "symfollow": .clear(CS_MS_NOSYMFOLLOW),

        "private": .propagation(CS_MS_PRIVATE), "rprivate": .propagation(CS_MS_PRIVATE | CS_MS_REC),
        "shared": .propagation(CS_MS_SHARED), "rshared": .propagation(CS_MS_SHARED | CS_MS_REC),
        "slave": .propagation(CS_MS_SLAVE), "rslave": .propagation(CS_MS_SLAVE | CS_MS_REC),
        "unbindable": .propagation(CS_MS_UNBINDABLE), "runbindable": .propagation(CS_MS_UNBINDABLE | CS_MS_REC),

        "rro": .attr(set: CS_MOUNT_ATTR_RDONLY, clear: 0), "rrw": .attr(set: 0, clear: CS_MOUNT_ATTR_RDONLY),
        "rnosuid": .attr(set: CS_MOUNT_ATTR_NOSUID, clear: 0), "rsuid": .attr(set: 0, clear: CS_MOUNT_ATTR_NOSUID),
        "rnodev": .attr(set: CS_MOUNT_ATTR_NODEV, clear: 0), "rdev": .attr(set: 0, clear: CS_MOUNT_ATTR_NODEV),
        "rnoexec": .attr(set: CS_MOUNT_ATTR_NOEXEC, clear: 0), "rexec": .attr(set: 0, clear: CS_MOUNT_ATTR_NOEXEC),
        "rnodiratime": .attr(set: CS_MOUNT_ATTR_NODIRATIME, clear: 0), "rdiratime": .attr(set: 0, clear: CS_MOUNT_ATTR_NODIRATIME),
        "rrelatime": .attr(set: CS_MOUNT_ATTR_RELATIME, clear: CS_MOUNT_ATTR__ATIME),
        "rnorelatime": .attr(set: 0, clear: CS_MOUNT_ATTR_RELATIME),
        "rnoatime": .attr(set: CS_MOUNT_ATTR_NOATIME, clear: CS_MOUNT_ATTR__ATIME),
        "ratime": .attr(set: 0, clear: CS_MOUNT_ATTR_NOATIME),
        "rstrictatime": .attr(set: CS_MOUNT_ATTR_STRICTATIME, clear: CS_MOUNT_ATTR__ATIME),
        "rnostrictatime": .attr(set: 0, clear: CS_MOUNT_ATTR_STRICTATIME),
        "rnosymfollow": .attr(set: CS_MOUNT_ATTR_NOSYMFOLLOW, clear: 0),
        "rsymfollow": .attr(set: 0, clear: CS_MOUNT_ATTR_NOSYMFOLLOW),

        "idmap": .idmap, "ridmap": .idmap,

        // runc extensions that this build accepts without applying.
        "tmpcopyup": .ignore,
    ]

    /// Options that are recognised (anything else is passed to the filesystem as data).
    public static func isKnown(_ option: String) -> Bool { table[option] != nil }

    /// Every option this build applies, for `features`.
    public static var applied: [String] {
        table.compactMap { key, effect in
            if case .ignore = effect { return nil }
            return key
        }.sorted()
    }

    public init() {}

    public init(_ options: [String]) {
        for option in options {
            switch MountOptions.table[option] {
            case .set(let f)?: flags |= f
            case .clear(let f)?: flags &= ~f
            case .propagation(let p)?: propagation.append(p)
            case .attr(let s, let c)?:
                attrSet = (attrSet & ~c) | s
                attrClear = (attrClear & ~s) | c
            case .ignore?: ignored.append(option)
            case .idmap?: break
            case nil: data.append(option)
            }
        }
    }

    /// A bind mount applies its other flags in a second, remount call.
    public var needsRemount: Bool {
        isBind && flags & ~(CS_MS_BIND | CS_MS_REC | CS_MS_REMOUNT) != 0
    }
}
