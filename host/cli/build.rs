//! Embeds the contract (`wit/*.wit`) in the `patchbay` binary, so that
//! `patchbay new` and `patchbay wit` work in any directory.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let wit = manifest.join("../../wit");
    println!("cargo::rerun-if-changed={}", wit.display());
    let mut names: Vec<String> = std::fs::read_dir(&wit)
        .unwrap_or_else(|e| panic!("cannot read the contract in {}: {e}", wit.display()))
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".wit"))
        .collect();
    names.sort();
    let mut out = String::from(
        "/// The contract's files, `(name, text)`, sorted by name.\npub(crate) const FILES: &[(&str, &str)] = &[\n",
    );
    for name in &names {
        let path = wit.join(name).canonicalize().expect("a listed file exists");
        println!("cargo::rerun-if-changed={}", path.display());
        writeln!(out, "    ({name:?}, include_str!({:?})),", path.display().to_string()).expect("write to a String");
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("contract.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}
