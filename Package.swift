// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "crun-swift",
    products: [
        .executable(name: "crun-swift", targets: ["crun-swift"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        // The C side: the child path between clone and execve, plus the supervisor loop.
        .target(
            name: "CShim",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.linkedLibrary("cap"), .linkedLibrary("seccomp")]
        ),
        // A small JSON reader/writer with a Codable decoder (no Foundation: startup and RSS).
        .target(name: "JSONCore"),
        // The OCI runtime-spec model and its validation.
        .target(name: "OCISpec", dependencies: ["JSONCore"]),
        // Turns a bundle into a plan and runs it.
        .target(
            name: "CrunRuntime",
            dependencies: [
                "CShim", "JSONCore", "OCISpec",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "crun-swift",
            dependencies: [
                "CrunRuntime", "OCISpec",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "UnitTests", dependencies: ["JSONCore", "OCISpec", "CrunRuntime", "CShim"]),
        // Root integration tests (real containers, compared with the probe) and black-box tests
        // of the built binary.
        .testTarget(name: "SystemTests"),
    ],
    swiftLanguageModes: [.v5]
)
