//! SDK packages copied or unpacked into a new plugin's `vendor/`, so that
//! the plugin builds from local package files until the SDKs are published.

use std::fs::File;
use std::path::Path;

use super::Vendor;

/// Adds `package` to `vendor`.
pub(crate) fn add(vendor: &Path, package: &Vendor) -> Result<(), String> {
    std::fs::create_dir_all(vendor).map_err(|e| format!("cannot create {}: {e}", vendor.display()))?;
    match package {
        Vendor::Copy(file) => {
            let name = file
                .file_name()
                .ok_or_else(|| format!("{} is not a file", file.display()))?;
            std::fs::copy(file, vendor.join(name))
                .map(drop)
                .map_err(|e| format!("cannot copy {} into {}: {e}", file.display(), vendor.display()))
        }
        Vendor::Unpack(archive) => {
            let file = File::open(archive).map_err(|e| format!("cannot open {}: {e}", archive.display()))?;
            // `unpack` refuses entries that would land outside `vendor`.
            tar::Archive::new(flate2::read::GzDecoder::new(file))
                .unpack(vendor)
                .map_err(|e| {
                    format!(
                        "cannot unpack {} (a .tar.gz) into {}: {e}",
                        archive.display(),
                        vendor.display()
                    )
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
        for (path, text) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            // set_path refuses `..`; write the name raw, as a hostile archive would.
            header.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            builder.append(&header, text.as_bytes()).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn archives_unpack_inside_vendor_only() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("sdk-0.1.0.crate");
        std::fs::write(&good, archive(&[("sdk-0.1.0/Cargo.toml", "[package]")])).unwrap();
        let vendor = dir.path().join("plugin/vendor");
        add(&vendor, &Vendor::Unpack(good)).unwrap();
        assert_eq!(
            std::fs::read_to_string(vendor.join("sdk-0.1.0/Cargo.toml")).unwrap(),
            "[package]"
        );

        let hostile = dir.path().join("evil.tar.gz");
        std::fs::write(&hostile, archive(&[("../../escaped.txt", "gotcha")])).unwrap();
        let _ = add(&vendor, &Vendor::Unpack(hostile));
        assert!(
            !dir.path().join("escaped.txt").exists(),
            "an entry climbing out of vendor/ is not written"
        );

        let broken = dir.path().join("broken.tar.gz");
        std::fs::write(&broken, b"not gzip").unwrap();
        let error = add(&vendor, &Vendor::Unpack(broken)).unwrap_err();
        assert!(error.contains("broken.tar.gz") && error.contains(".tar.gz"), "{error}");
    }
}
