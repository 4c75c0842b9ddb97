//! `tamga`: the node and its command line.

/// mimalloc instead of glibc malloc: the node allocates and frees many small
/// objects per transaction on several threads (state values, tree nodes, cache
/// generations), where glibc's arenas spent a fifth of the node's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    without_transparent_huge_pages();
    tamga_node::cli::main()
}

/// Turns transparent huge pages off for this process, before it allocates in
/// earnest. mimalloc asks the kernel for huge pages on its arenas
/// (`MADV_HUGEPAGE`), so with THP in `madvise` or `always` mode each first touch
/// of a 2 MiB region faults in and zeroes a whole huge page. A block's working
/// set (batch vectors, hash maps, tree nodes) is allocated and freed every
/// block: in a profile of four validators at 100 ms blocks (2026-12-04) the
/// kernel zeroing pages was 16 % of all samples, the largest single cost, and
/// blocks fell behind their interval; with huge pages off it was 0.3 %, and the
/// 100 ms p99 latency fell from 662–1,003 ms to 205–270 ms in three interleaved
/// pairs (README, "Where the time goes"). Small pages fault in only what is
/// touched. The switch is the process's own (`PR_SET_THP_DISABLE`; the node
/// starts no other process): the machine's setting and every other process are
/// left alone.
fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only and
        // changes a flag of this process; it touches no memory of ours. A kernel
        // without it returns an error, and the node runs as before.
        let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}
