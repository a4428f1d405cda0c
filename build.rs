//! Rebuilds bgrun when its shipped roles (library/) change: they are embedded in the binary.
fn main() {
    println!("cargo:rerun-if-changed=library");
}
