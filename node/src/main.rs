//! `tamga`: the node and its command line.

/// mimalloc instead of glibc malloc: the node allocates and frees many small
/// objects per transaction on several threads (state values, tree nodes, cache
/// generations), where glibc's arenas spent a fifth of the node's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tamga_node::cli::main()
}
