//! The `bgrun` binary: all work is in the library.

fn main() {
    std::process::exit(bgrun::run::main());
}
