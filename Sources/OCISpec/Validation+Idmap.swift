/// Idmapped mounts: `mounts[].uidMappings`/`gidMappings` (runtime-spec 1.1) and the `idmap`
/// and `ridmap` options (1.2). Mappings have the format of linux.uidMappings and are applied
/// with mount_setattr(MOUNT_ATTR_IDMAP) through a user namespace with exactly those maps; an
/// `idmap` mount without mappings takes the container's (runtime-spec 1.2, #1224).
extension Mount {
    /// How this mount asks to be idmapped, or nil when it does not.
    public var idmapRequest: (recursive: Bool, hasMappings: Bool)? {
        let options = self.options ?? []
        let hasMappings = !(uidMappings ?? []).isEmpty || !(gidMappings ?? []).isEmpty
        let recursive = options.contains("ridmap")
        guard hasMappings || recursive || options.contains("idmap") else { return nil }
        return (recursive, hasMappings)
    }

    public var isBindMount: Bool {
        let options = self.options ?? []
        return type == "bind" || options.contains("bind") || options.contains("rbind")
    }
}

extension SpecValidator {
    /// The kernel takes at most 340 lines in a uid_map or gid_map (since Linux 4.15).
    public static let maxMappingRanges = 340
    /// Idmapped trees the runtime hands to the container's init (CS_MAX_IDMAPPED_MOUNTS).
    public static let maxIdmappedMounts = 64

    func idmapIssues(_ spec: Spec, namespaces: Set<NamespaceKind>, _ add: (String, String) -> Void) {
        var idmapped = 0
        for (i, m) in (spec.mounts ?? []).enumerated() {
            let field = "mounts[\(i)]"
            let options = m.options ?? []
            for option in options where option.hasPrefix("idmap=") || option.hasPrefix("ridmap=") {
                add("\(field).options", "\"\(option)\": mappings inside the option are not supported; give them in \(field).uidMappings and \(field).gidMappings")
            }
            guard let request = m.idmapRequest else { continue }
            idmapped += 1
            if !m.isBindMount {
                add(field, "idmapped mounts (uidMappings, gidMappings, idmap, ridmap) apply to bind mounts only; type is \"\(m.type ?? "")\" without bind or rbind")
            }
            let uids = m.uidMappings ?? [], gids = m.gidMappings ?? []
            if !uids.isEmpty && gids.isEmpty { add("\(field).gidMappings", "required with \(field).uidMappings") }
            if uids.isEmpty && !gids.isEmpty { add("\(field).uidMappings", "required with \(field).gidMappings") }
            idRangeIssues(uids, field: "\(field).uidMappings", add)
            idRangeIssues(gids, field: "\(field).gidMappings", add)
            if !request.hasMappings && !namespaces.contains(.user) {
                add("\(field).options", "\(request.recursive ? "ridmap" : "idmap") without uidMappings and gidMappings uses the container's user namespace, but linux.namespaces has none")
            }
        }
        if idmapped > SpecValidator.maxIdmappedMounts {
            add("mounts", "\(idmapped) idmapped mounts; this runtime takes at most \(SpecValidator.maxIdmappedMounts)")
        }
    }

    /// One list of id ranges as the kernel would take it in a uid_map: sizes, overflow, count,
    /// and no two ranges overlapping on either side.
    func idRangeIssues(_ maps: [IDMapping], field: String, _ add: (String, String) -> Void) {
        if maps.count > SpecValidator.maxMappingRanges {
            add(field, "\(maps.count) ranges; the kernel takes at most \(SpecValidator.maxMappingRanges)")
            return
        }
        func end(_ start: UInt32, _ size: UInt32) -> UInt64 { UInt64(start) + UInt64(size) }
        for j in maps.indices {
            let m = maps[j]
            if m.size == 0 { add("\(field)[\(j)].size", "must be at least 1"); continue }
            // The kernel refuses a range that reaches (u32)-1: that id means "none".
            if end(m.containerID, m.size) > UInt64(UInt32.max) { add("\(field)[\(j)]", "containerID + size must be at most 4294967295") }
            if end(m.hostID, m.size) > UInt64(UInt32.max) { add("\(field)[\(j)]", "hostID + size must be at most 4294967295") }
            for k in maps.indices where k < j && maps[k].size > 0 {
                let o = maps[k]
                if m.containerID < end(o.containerID, o.size) && o.containerID < end(m.containerID, m.size) {
                    add("\(field)[\(j)]", "containerID range \(m.containerID)+\(m.size) overlaps \(field)[\(k)]")
                }
                if m.hostID < end(o.hostID, o.size) && o.hostID < end(m.hostID, m.size) {
                    add("\(field)[\(j)]", "hostID range \(m.hostID)+\(m.size) overlaps \(field)[\(k)]")
                }
            }
        }
    }
}
