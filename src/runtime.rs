//! The Tokio runtime the binding's promises run on: napi-rs's default (one worker per core),
//! except that on Linux its threads run at a lower scheduling priority than Node's main
//! thread. A long list parses megabytes of JSON and converts HTML on the workers; on a
//! machine with few cores (two, in CI and on small VMs) they would otherwise take the cores
//! the event loop needs, and a timer or an I/O callback waits for their time slice.

/// Niceness of the worker threads (0 is Node's; the kernel gives a nice-10 thread about a
/// tenth of a nice-0 thread's share when both want the core, and none when the core is free).
#[cfg(target_os = "linux")]
const WORKER_NICE: i32 = 10;

#[napi_derive::module_init]
fn init() {
    // Once per process: each Node worker thread that loads the addon runs this again.
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(install);
}

fn install() {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    #[cfg(target_os = "linux")]
    builder.on_thread_start(lower_priority);
    // If the runtime cannot be built here, napi-rs builds its default one on first use.
    if let Ok(rt) = builder.build() {
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}

/// Lowers the calling thread's priority (Linux keeps a niceness per thread). Raising one's
/// own niceness needs no privilege; a failure leaves the thread as it was.
#[cfg(target_os = "linux")]
fn lower_priority() {
    extern "C" {
        fn setpriority(which: i32, who: u32, prio: i32) -> i32;
        fn syscall(number: i64, ...) -> i64;
    }
    #[cfg(target_arch = "x86_64")]
    const SYS_GETTID: i64 = 186;
    #[cfg(target_arch = "aarch64")]
    const SYS_GETTID: i64 = 178;
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    return;
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    // SAFETY: gettid takes no arguments and cannot fail; setpriority only reads its integer
    // arguments (PRIO_PROCESS = 0 with a thread id addresses that one thread).
    unsafe {
        let tid = syscall(SYS_GETTID);
        if let Ok(tid) = u32::try_from(tid) {
            let _ = setpriority(0, tid, WORKER_NICE);
        }
    }
}
