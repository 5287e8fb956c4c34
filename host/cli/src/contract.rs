//! The contract this binary carries (`wit/`, embedded at build time), and
//! `patchbay wit`, which writes it out for tools that want the files.

use std::path::PathBuf;

use wit_parser::{PackageId, Resolve, SourceMap};

use super::Failure;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/contract.rs"));
}

pub(crate) use embedded::FILES;

/// The contract's version, e.g. `0.1.4`.
pub(crate) fn version() -> &'static str {
    FILES
        .iter()
        .find_map(|(_, text)| {
            let rest = &text[text.find("package patchbay:connector@")? + "package patchbay:connector@".len()..];
            Some(&rest[..rest.find(';')?])
        })
        .expect("the contract names its package")
}

/// The contract, parsed.
pub(crate) fn resolve() -> Result<(Resolve, PackageId), String> {
    let mut sources = SourceMap::new();
    for (name, text) in FILES {
        sources.push_str(&format!("wit/{name}"), *text);
    }
    let mut resolve = Resolve::default();
    let group = sources
        .parse()
        .map_err(|(_, e)| format!("the embedded contract does not parse: {e}"))?;
    let package = resolve
        .push_group(group)
        .map_err(|e| format!("the embedded contract does not resolve: {e:#}"))?;
    Ok((resolve, package))
}

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The directory to write the `.wit` files into (created when missing).
    #[arg(long, default_value = "wit")]
    out: PathBuf,
}

/// `patchbay wit`: the contract's files into `--out`.
pub(crate) fn run(args: Args) -> Result<(), Failure> {
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Failure::failed(format!("cannot create {}: {e}", args.out.display())))?;
    for (name, text) in FILES {
        let path = args.out.join(name);
        std::fs::write(&path, text).map_err(|e| Failure::failed(format!("cannot write {}: {e}", path.display())))?;
    }
    println!(
        "wrote patchbay:connector@{} ({} files) to {}",
        version(),
        FILES.len(),
        args.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The binary carries every file of `wit/`, byte for byte, and it parses.
    #[test]
    fn the_embedded_contract_is_wit() {
        let wit = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../wit");
        let mut on_disk: Vec<String> = std::fs::read_dir(&wit)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".wit"))
            .collect();
        on_disk.sort();
        let embedded: Vec<&str> = FILES.iter().map(|(n, _)| *n).collect();
        assert_eq!(embedded, on_disk);
        for (name, text) in FILES {
            assert_eq!(*text, std::fs::read_to_string(wit.join(name)).unwrap(), "{name}");
        }
        let (resolve, package) = resolve().expect("parses");
        assert_eq!(
            resolve.packages[package]
                .name
                .version
                .as_ref()
                .map(|v| v.to_string())
                .as_deref(),
            Some(version())
        );
    }
}
