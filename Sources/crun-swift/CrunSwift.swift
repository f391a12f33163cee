import ArgumentParser

@main
struct CrunSwift: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crun-swift",
        abstract: "An OCI container runtime.",
        version: "crun-swift version 0.1.0\ncommit: \(BuildInfo.commit)\nspec: 1.3.0",
        subcommands: [RunCommand.self])

    @OptionGroup var globals: GlobalOptions
}

enum BuildInfo {
    static let commit = "unknown"
}
