// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "crun-swift",
    products: [
        .executable(name: "crun-swift", targets: ["crun-swift"]),
        .executable(name: "swnet", targets: ["swnet"]),
    ],
    // No package dependencies: swift-argument-parser links FoundationEssentials, which alone
    // costs 1.5 MB of RSS at startup (3.3 MB once it parses) against a 5 MB budget; the runc
    // command line is parsed by CrunCLI/CommandLineParser.swift instead.
    targets: [
        // The C side: the child path between clone and execve, plus the supervisor loop.
        .target(
            name: "CShim",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.linkedLibrary("cap"), .linkedLibrary("seccomp")]
        ),
        // Files, processes, errno, clocks and the `Syscalls` seam, shared by both programs.
        .target(name: "CLinuxSys", cSettings: [.define("_GNU_SOURCE")]),
        .target(name: "LinuxSys", dependencies: ["CLinuxSys"]),
        // RecordingSyscalls: the fake for unit tests (not linked into the programs).
        .target(name: "LinuxSysTesting", dependencies: ["LinuxSys"]),
        // A small JSON reader/writer with a Codable decoder (no Foundation: startup and RSS).
        .target(name: "JSONCore"),
        // The OCI runtime-spec model and its validation.
        .target(name: "OCISpec", dependencies: ["JSONCore"]),
        // linux.seccomp compiled to BPF through libseccomp (in the parent: the child only loads
        // the bytes), its validation and `features`, and the notify fd hand-off to the listener.
        .target(name: "Seccomp", dependencies: ["CShim", "JSONCore", "LinuxSys", "OCISpec"]),
        // A container's cgroup (v2, v1, hybrid): directories, limits, freeze, kill, removal,
        // stats. Files, directories, signals and the clock go through LinuxSys's `Syscalls`.
        // CShim only for what has no file-level form: statfs's magic, the BPF device filter
        // and memory.oom_control's eventfd.
        .target(name: "Cgroups", dependencies: ["CShim", "JSONCore", "LinuxSys", "OCISpec"]),
        // Turns a bundle into a plan and runs it.
        .target(
            name: "CrunRuntime",
            dependencies: ["CShim", "Cgroups", "JSONCore", "LinuxSys", "OCISpec", "Seccomp"]
        ),
        // The runc-compatible command line: thin, over CrunRuntime.
        .target(name: "CrunCLI", dependencies: ["CrunRuntime", "LinuxSys", "OCISpec"]),
        .executableTarget(name: "crun-swift", dependencies: ["CrunCLI"]),
        // swnet: CNI bridge and IPAM plugins. rtnetlink spoken directly in C (nlmsg.h), so the
        // binary links fully static.
        .target(name: "CNetlink", cSettings: [.define("_GNU_SOURCE")]),
        // The rtnetlink socket behind a protocol (RouteSocket; RecordingNetlink for unit tests).
        .target(name: "Netlink", dependencies: ["CNetlink"]),
        // RecordingNetlink: namespaces, links, addresses and routes in memory, for unit tests.
        .target(name: "NetlinkTesting", dependencies: ["Netlink"]),
        // CNI plumbing: environment, errors, results, network config, delegation to other plugins.
        .target(name: "CNI", dependencies: ["JSONCore", "LinuxSys"]),
        // Address management: the allocator and its host-local-compatible lease store.
        .target(name: "IPAM", dependencies: ["CNI", "LinuxSys"]),
        // The per-network DNS server and the registry it serves from.
        .target(name: "SwnetDNS", dependencies: ["CNI", "JSONCore", "LinuxSys"]),
        // The bridge plugin: bridge, veth pairs, routes, ipMasq, pod DNS registration.
        .target(name: "SwnetBridge", dependencies: ["CNetlink", "CNI", "IPAM", "JSONCore", "LinuxSys", "Netlink", "SwnetDNS"]),
        // The plugin entry point and the cnitool-like command line.
        .executableTarget(name: "swnet", dependencies: ["CNI", "IPAM", "JSONCore", "LinuxSys", "SwnetBridge", "SwnetDNS"]),
        .testTarget(name: "UnitTests", dependencies: ["JSONCore", "OCISpec", "Cgroups", "CrunRuntime", "CrunCLI", "CShim", "Seccomp", "LinuxSys", "LinuxSysTesting", "Netlink", "NetlinkTesting", "CNI", "IPAM", "SwnetDNS", "SwnetBridge", "swnet"]),
        // Root integration tests (real containers, compared with the probe) and black-box tests
        // of the built binary.
        .testTarget(name: "SystemTests"),
    ],
    swiftLanguageModes: [.v5]
)
