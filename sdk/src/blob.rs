//! Blobs: file contents the host holds, passed by reference (contract
//! 0.1.4). A [`Blob`] is a handle: its bytes stay in a host file, outside
//! the plugin's memory, so a plugin with 64 MiB of memory can move a 2 GiB
//! file. The plugin gets one as an argument
//! ([`BlobStorage::save_blob`](crate::BlobStorage::save_blob)) or from the
//! host ([`Request::send_into_blob`](crate::http::Request::send_into_blob)),
//! cuts [`parts`] of it with [`slice`], and names it as a request body
//! ([`Request::send_blob`](crate::http::Request::send_blob)); the host
//! streams the bytes, and sends them again when it retries.

pub use crate::bindings::imports::patchbay::connector::blobs::{Blob, BlobError};
use crate::{Error, Result};

/// The plugin's error for a blob the host could not read or cut.
pub fn from_blob_error(error: BlobError) -> Error {
    match error {
        BlobError::OutOfRange(why) => Error::Validation(why),
        BlobError::Unavailable(why) => Error::provider(format!("the host could not read the blob: {why}")),
    }
}

/// `length` bytes of `blob` from `offset`, as a blob of their own (a part
/// of a multipart upload).
pub fn slice(blob: &Blob, offset: u64, length: u64) -> Result<Blob> {
    blob.slice(offset, length).map_err(from_blob_error)
}

/// At most `max` bytes of `blob` from its start: a look at a header or a
/// magic number, never the whole of a large file.
pub fn head(blob: &Blob, max: u32) -> Result<Vec<u8>> {
    blob.read(0, max).map_err(from_blob_error)
}

/// One part of a file cut for a multipart upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// Its number, from 1.
    pub number: u32,
    /// Where it starts in the file.
    pub offset: u64,
    /// Its length in bytes.
    pub length: u64,
}

/// The parts of a file of `size` bytes cut into `part_size` bytes each (the
/// last one shorter); one empty part for an empty file.
pub fn parts(size: u64, part_size: u64) -> impl Iterator<Item = Part> {
    let part_size = part_size.max(1);
    let count = size.div_ceil(part_size).max(1);
    (0..count).map(move |i| {
        let offset = i * part_size;
        Part {
            number: u32::try_from(i + 1).unwrap_or(u32::MAX),
            offset,
            length: part_size.min(size - offset.min(size)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_file_once() {
        let cut: Vec<Part> = parts(10, 4).collect();
        assert_eq!(
            cut,
            [
                Part {
                    number: 1,
                    offset: 0,
                    length: 4
                },
                Part {
                    number: 2,
                    offset: 4,
                    length: 4
                },
                Part {
                    number: 3,
                    offset: 8,
                    length: 2
                },
            ]
        );
        assert_eq!(parts(8, 4).count(), 2);
        assert_eq!(
            parts(0, 4).collect::<Vec<_>>(),
            [Part {
                number: 1,
                offset: 0,
                length: 0
            }]
        );
    }
}
