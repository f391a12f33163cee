import CShim
import CrunRuntime
import OCISpec
import Testing

/// Idmapped mounts: what validation refuses (naming the field) and what the planner decides.
@Suite struct IdmapPlanTests {
    let planner = ContainerPlanner(capabilityNumber: { _ in nil }, lastCapability: 40,
                                   isDirectory: { ["/src/dir": true, "/bundle/rootfs": true][$0] })
    static let userns = #""namespaces": [{"type": "mount"}, {"type": "user"}], "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}], "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}]"#

    func mounts(_ json: String, linux: String = userns) -> String { config(#", "mounts": [\#(json)]"#, linux: linux) }

    func plan(_ text: String) throws -> ContainerPlan {
        try planner.plan(try Bundle.decodeSpec(Array(text.utf8)), bundle: "/bundle", options: PlanOptions())
    }

    @Test func ownMappingsBecomeTheMountsUserNamespaceMaps() throws {
        let p = try plan(mounts(#"{"destination": "/d", "type": "bind", "source": "/src/dir", "options": ["rbind", "rprivate", "rw"], "uidMappings": [{"containerID": 1000, "hostID": 100000, "size": 1}, {"containerID": 0, "hostID": 100001, "size": 1}], "gidMappings": [{"containerID": 1000, "hostID": 200000, "size": 1}]}"#))
        #expect(p.mounts[0].idmap == .init(uidMap: "1000 100000 1\n0 100001 1\n", gidMap: "1000 200000 1\n", userNamespacePath: nil, recursive: false))
        #expect(p.mounts[0].flags & CS_MS_REC != 0)  // the tree is the rbind's; the mapping is not recursive
    }

    @Test func idmapOptionTakesTheContainerMaps() throws {
        let p = try plan(mounts(#"{"destination": "/d", "type": "bind", "source": "/src/dir", "options": ["rbind", "ridmap"]}"#))
        #expect(p.mounts[0].idmap == .init(uidMap: "0 100000 65536\n", gidMap: "0 200000 65536\n", userNamespacePath: nil, recursive: true))
        #expect(p.mounts[0].data == nil)  // idmap/ridmap never reach the filesystem as data
    }

    @Test func idmapOptionWithAJoinedUserNamespaceUsesItsPath() throws {
        let linux = #""namespaces": [{"type": "mount"}, {"type": "user", "path": "/proc/42/ns/user"}]"#
        let p = try plan(mounts(#"{"destination": "/d", "type": "bind", "source": "/src/dir", "options": ["bind", "idmap"]}"#, linux: linux))
        #expect(p.mounts[0].idmap?.userNamespacePath == "/proc/42/ns/user")
    }

    @Test func plainMountsAreNotIdmapped() throws {
        let p = try plan(mounts(#"{"destination": "/d", "type": "bind", "source": "/src/dir", "options": ["rbind"], "uidMappings": [], "gidMappings": []}"#))
        #expect(p.mounts[0].idmap == nil)
    }

    @Test(arguments: [
        (#"{"destination": "/d", "type": "tmpfs", "source": "tmpfs", "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}], "gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}"#,
         #"mounts[0]: idmapped mounts (uidMappings, gidMappings, idmap, ridmap) apply to bind mounts only; type is "tmpfs" without bind or rbind"#),
        (#"{"destination": "/d", "type": "bind", "source": "/src/dir", "gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}"#,
         "mounts[0].uidMappings: required with mounts[0].gidMappings"),
        (#"{"destination": "/d", "type": "bind", "source": "/src/dir", "uidMappings": [{"containerID": 4294967290, "hostID": 1, "size": 10}], "gidMappings": [{"containerID": 0, "hostID": 4294967295, "size": 1}]}"#,
         "mounts[0].uidMappings[0]: containerID + size must be at most 4294967295"),
        (#"{"destination": "/d", "type": "bind", "source": "/src/dir", "uidMappings": [{"containerID": 0, "hostID": 10, "size": 5}, {"containerID": 100, "hostID": 14, "size": 1}], "gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}"#,
         "mounts[0].uidMappings[1]: hostID range 14+1 overlaps mounts[0].uidMappings[0]"),
        (#"{"destination": "/d", "type": "bind", "source": "/src/dir", "options": ["ridmap=uids=0-1-1"]}"#,
         #"mounts[0].options: "ridmap=uids=0-1-1": mappings inside the option are not supported; give them in mounts[0].uidMappings and mounts[0].gidMappings"#),
    ])
    func invalid(_ mount: String, _ message: String) throws {
        let found = try issues(mounts(mount))
        #expect(found.contains(message), "\(found)")
    }

    @Test func idmapWithoutMappingsNeedsAUserNamespace() throws {
        #expect(try issues(mounts(#"{"destination": "/d", "type": "bind", "source": "/src", "options": ["rbind", "idmap"]}"#, linux: #""namespaces": [{"type": "mount"}]"#))
                == ["mounts[0].options: idmap without uidMappings and gidMappings uses the container's user namespace, but linux.namespaces has none"])
    }

    @Test func tooManyRangesOrMounts() throws {
        let ranges = (0..<341).map { #"{"containerID": \#($0), "hostID": \#($0 + 1000), "size": 1}"# }.joined(separator: ", ")
        #expect(try issues(mounts(#"{"destination": "/d", "type": "bind", "source": "/s", "uidMappings": [\#(ranges)], "gidMappings": [\#(ranges)]}"#))
                == ["mounts[0].uidMappings: 341 ranges; the kernel takes at most 340", "mounts[0].gidMappings: 341 ranges; the kernel takes at most 340"])
        let many = (0..<65).map { _ in #"{"destination": "/d", "type": "bind", "source": "/s", "options": ["bind", "idmap"]}"# }.joined(separator: ", ")
        #expect(try issues(mounts(many)) == ["mounts: 65 idmapped mounts; this runtime takes at most 64"])
    }

    @Test func featuresListTheOptions() {
        #expect(MountOptions.applied.contains("idmap") && MountOptions.applied.contains("ridmap"))
        #expect(CS_MAX_IDMAPPED_MOUNTS == Int32(SpecValidator.maxIdmappedMounts))
    }
}
