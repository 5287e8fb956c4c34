//! Large files for the storage tests and benchmarks: generated (never
//! stored), with their SHA-256, and the patience a host needs to move them.

use std::io::Write as _;
use std::time::Duration;

use patchbay::outbound::{Blob, HttpLimits};
use sha2::Digest as _;

/// `size` bytes of a repeatable pseudo-random pattern in a temporary file,
/// and their SHA-256 (hex).
pub fn generated(size: u64) -> (tempfile::NamedTempFile, String) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let mut digest = sha2::Sha256::new();
    let mut block = vec![0u8; 1024 * 1024];
    let mut written = 0;
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    while written < size {
        for byte in block.iter_mut() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *byte = seed as u8;
        }
        let n = (size - written).min(block.len() as u64) as usize;
        file.write_all(&block[..n]).unwrap();
        digest.update(&block[..n]);
        written += n as u64;
    }
    file.flush().unwrap();
    (file, hex::encode(digest.finalize()))
}

/// A blob of `size` bytes whose file then shrinks to `kept` bytes: a
/// request that sends it cannot send all it announced, and is cut off
/// midway (a failed upload, on purpose).
pub fn shrinking(size: u64, kept: u64) -> (tempfile::NamedTempFile, Blob) {
    let (file, _) = generated(size);
    let blob = Blob::from_file(file.path()).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(file.path())
        .unwrap()
        .set_len(kept)
        .unwrap();
    (file, blob)
}

/// Limits for a host that moves large files: five minutes for an answer,
/// since a server takes its time to assemble a large upload (S3's
/// completion of a multipart upload) before it answers; loopback allowed.
pub fn patient_http_limits() -> HttpLimits {
    let patient = Duration::from_secs(300);
    HttpLimits {
        first_byte_timeout: patient,
        request_timeout: patient,
        allow_private_network: true,
        ..HttpLimits::default()
    }
}
