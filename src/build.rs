// Rebuild when a shipped ruleset changes: they are embedded in the binary (src/registry.rs).
fn main() {
    println!("cargo:rerun-if-changed=criteria");
}
