//! The `gatehouse` command.
fn main() -> std::process::ExitCode {
    keep_large_allocations_returnable();
    gatehouse::cli::main()
}

/// glibc raises its mmap threshold after the first large block is freed, so argon2id's blocks
/// (7 MiB each; 19 MiB when this was measured) then come from the heap and stay: RSS grew past
/// 200 MiB under concurrent logins. A fixed threshold keeps them mmapped and returned on free.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_large_allocations_returnable() {
    // SAFETY: mallopt only sets an allocator tunable; called once, before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_large_allocations_returnable() {}
