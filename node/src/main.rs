//! `tamga`: the node and its command line.

fn main() -> std::process::ExitCode {
    tamga_node::cli::main()
}
