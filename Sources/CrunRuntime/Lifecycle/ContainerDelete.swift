import Cgroups
import Glibc

/// `delete [--force] ID`: removes everything the container owned, also after a crash of the
/// runtime at any point of create, start, exec, run or delete: its processes (found through
/// the cgroup and the recorded init), the cgroup, the network attachment, the pid file and the
/// state directory whatever it holds. Each step treats "already gone" as done, so a delete
/// that was itself cut short is finished by the next one.
public enum ContainerDelete {
    /// `reportOOM`: warn first if the OOM killer killed processes of the container (`run`,
    /// which would otherwise read the state once more for it).
    public static func delete(_ id: String, force: Bool, store: StateStore, warn: (String) -> Void,
                              reportOOM: Bool = false) throws(RuntimeError) {
        let handle: StateStore.Handle
        do {
            handle = try store.open(id)
        } catch {
            if force, access(store.directory(id), F_OK) != 0 { return }  // runc: --force of a missing container succeeds
            throw error
        }
        let state: ContainerState
        do {
            state = try store.read(id)
        } catch {
            // A corrupt state.json (not something a crash leaves: it is replaced by rename).
            guard force else { throw error }
            warn("\(error.description); removing it")
            PodNetwork.recorded(id: id, stateDirectory: handle.path)?.detach()
            let recorded = store.recordedInit(handle)
            var fallback = ContainerState(id: id, pid: recorded?.pid ?? 0, status: .running, bundle: "", rootfs: "",
                                          created: "", annotations: nil, initStartTime: recorded?.startTime ?? 0)
            fallback.cgroupPath = store.recordedCgroup(directory: handle.path)
            fallback.cgroupPaths = store.recordedCgroupPaths(directory: handle.path)
            try ContainerKill.signalContainer(fallback, signal: SIGKILL, all: true, waitSeconds: 10)
            try ContainerCgroup.destroy(ContainerCgroup.of(fallback))
            Cgroup.removeCreated(store.recordedCgroupParents(directory: handle.path))
            try store.remove(handle)
            return
        }
        if reportOOM, let cgroup = ContainerCgroup.of(state), let report = ContainerCgroup.oomReport(cgroup, id: id) {
            warn(report)
        }
        let status = state.liveStatus
        if status == .running && !force {
            throw .container("cannot delete container \"\(id)\" that is not stopped: running (use --force)")
        }
        if status != .stopped {
            try ContainerKill.signalContainer(state, signal: SIGKILL, all: true, waitSeconds: 10)
        }
        // What is left in the cgroup (processes that left the pid namespace's view, an init
        // cloned but not yet recorded, a frozen init), then the cgroup itself.
        try ContainerCgroup.destroy(ContainerCgroup.of(state))
        Cgroup.removeCreated(store.recordedCgroupParents(directory: handle.path))  // the slices create made, if empty
        PodNetwork.recorded(id: id, stateDirectory: handle.path)?.detach()
        if let spec = try? ContainerStart.storedConfigWithHooks(handle), state.status != .creating {
            do {
                try HookRunner.run(.poststop, spec: spec, state: state.specJSON(status: .stopped), bundle: state.bundle)
            } catch {
                warn(error.description)
            }
        }
        if let pidFile = state.pidFile, state.pid > 0 { PidFile.remove(pidFile, pid: state.pid) }
        try store.remove(handle)
        DebugLog.note("delete: \(id): state \(handle.path) removed")
    }
}
