//! `tamga`: the node and its command line.

/// mimalloc instead of glibc malloc: the node allocates and frees many small
/// objects per transaction on several threads (state values, tree nodes, cache
/// generations), where glibc's arenas spent a fifth of the node's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    if let Err(missing) = cpu_has_what_rocksdb_was_built_for() {
        eprintln!(
            "error: this CPU lacks {missing}: tamga's RocksDB was compiled for it \
             (CXXFLAGS {ROCKSDB_CXXFLAGS:?}, .cargo/config.toml `[env]`, for hardware \
             CRC32C checksums) and would stop at an illegal instruction; rebuild without \
             that line to run on this CPU"
        );
        return std::process::ExitCode::FAILURE;
    }
    without_transparent_huge_pages();
    tamga_node::cli::main()
}

/// The flags RocksDB's C++ was compiled with on x86-64 linux-gnu, from
/// `.cargo/config.toml`'s `[env]` (cargo rebuilds this crate when they
/// change); empty for a build without them.
const ROCKSDB_CXXFLAGS: &str = match option_env!("CXXFLAGS_x86_64_unknown_linux_gnu") {
    Some(flags) => flags,
    None => "",
};

/// RocksDB's C++ compiled for SSE4.2 (with POPCNT) and PCLMULQDQ stops the
/// process at an illegal instruction on a CPU without them, with no word of
/// why: so the node names what is missing instead, for the flags this build
/// was given. Checked first thing in `main`; C++ static initializers run
/// before it and could in principle use them already (RocksDB's CRC32C one
/// only picks a function). Other targets get no flags and are not checked.
fn cpu_has_what_rocksdb_was_built_for() -> Result<(), &'static str> {
    // The `[env]` line is set for every target, but cc reads it only for this one.
    #[cfg(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu"))]
    {
        let built_for = |flag: &str| ROCKSDB_CXXFLAGS.split_whitespace().any(|f| f == flag);
        if built_for("-msse4.2") {
            if !std::arch::is_x86_feature_detected!("sse4.2") {
                return Err("SSE4.2");
            }
            if !std::arch::is_x86_feature_detected!("popcnt") {
                return Err("POPCNT");
            }
        }
        if built_for("-mpclmul") && !std::arch::is_x86_feature_detected!("pclmulqdq") {
            return Err("PCLMULQDQ");
        }
    }
    Ok(())
}

/// Turns transparent huge pages off for this process, before it allocates in
/// earnest. mimalloc asks the kernel for huge pages on its arenas
/// (`MADV_HUGEPAGE`), so with THP in `madvise` or `always` mode each first touch
/// of a 2 MiB region of the heap faults in and zeroes a whole huge page. In a
/// profile of four validators at 100 ms blocks (2026-12-04, THP `madvise`) the
/// kernel's page zeroing (`clear_page_erms`, reached from mimalloc's page
/// initialisation) was 16 % of all samples, the largest single symbol, and
/// blocks fell behind their interval; with huge pages off it was 0.3 %, and the
/// 100 ms p99 latency fell from 662–1,003 ms to 205–270 ms in three interleaved
/// pairs (`docs/performance-notes.md`, "Four validators", which also has the
/// earlier pairs on a THP `always` host). Small pages fault in only what is
/// touched.
///
/// The switch (`PR_SET_THP_DISABLE`) covers this whole process, RocksDB's heap
/// included, and would be inherited by a child (the node starts none); the
/// machine's setting and every other process are left alone. If the kernel
/// refuses it (older than 3.15), the node runs as before, with huge pages.
fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        let (disable, unused): (libc::c_ulong, libc::c_ulong) = (1, 0);
        // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only
        // (passed at the width the kernel reads, `unsigned long`) and changes a
        // flag of this process; it touches no memory of ours.
        let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, disable, unused, unused, unused) };
    }
}
