//! What every storage adapter needs the same way: file names normalized
//! under the connection's root (and refused when they climb out of it),
//! paths encoded into URLs and decoded from listings, content types from
//! file names, the last segment of a path.

use crate::{Error, Result};

/// Normalizes a `/`-separated name relative to the storage root: empty
/// segments and `.` go, `..` takes back the segment before it. A name that
/// climbs above the root (`../etc/passwd`, `a/../../b`) or holds a NUL or a
/// line break is refused; so is an empty name when `allow_root` is false.
/// The result has no leading or trailing `/`; the root is `""`.
///
/// ```
/// use patchbay_sdk::storage::normalize;
/// assert_eq!(normalize("/reports//2026/./q1.pdf", false).unwrap(), "reports/2026/q1.pdf");
/// assert_eq!(normalize("a/b/../c", false).unwrap(), "a/c");
/// assert!(normalize("../secret", false).is_err());
/// assert_eq!(normalize("/", true).unwrap(), "");
/// ```
pub fn normalize(name: &str, allow_root: bool) -> Result<String> {
    if name.contains(['\0', '\r', '\n']) {
        return Err(Error::Validation(format!(
            "{name:?} holds a NUL or a line break, which no file name may"
        )));
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in name.split(['/', '\\']) {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(Error::Validation(format!("{name:?} climbs out of the storage root")));
                }
            }
            other => segments.push(other),
        }
    }
    if segments.is_empty() && !allow_root {
        return Err(Error::Validation(format!("{name:?} names no file")));
    }
    Ok(segments.join("/"))
}

/// `root` and a normalized `path` joined with one `/` (either may be empty).
pub fn join(root: &str, path: &str) -> String {
    match (root.trim_matches('/'), path) {
        ("", path) => path.to_string(),
        (root, "") => root.to_string(),
        (root, path) => format!("{root}/{path}"),
    }
}

/// The last segment of a `/`-separated path.
pub fn file_name(path: &str) -> &str {
    let path = path.trim_end_matches('/');
    path.rsplit('/').next().unwrap_or(path)
}

/// Percent-encodes every byte but RFC 3986's unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`), and `/` too unless `keep_slash`: a path in a
/// URL exactly as S3 signs it and WebDAV servers read it.
///
/// ```
/// use patchbay_sdk::storage::encode;
/// assert_eq!(encode("été 2026/a+b.txt", true), "%C3%A9t%C3%A9%202026/a%2Bb.txt");
/// assert_eq!(encode("a/b", false), "a%2Fb");
/// ```
pub fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            b'/' if keep_slash => out.push('/'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// Decodes `%XX` escapes (a path from a server's listing); an invalid
/// escape stays as written, invalid UTF-8 is replaced.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The MIME type of a file name's extension, for the common kinds of file
/// a connector stores (documents, images, archives, data, media); `None`
/// for others.
pub fn content_type(name: &str) -> Option<&'static str> {
    let extension = file_name(name).rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match extension.as_str() {
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "md" => "text/markdown",
        "xml" => "application/xml",
        "json" => "application/json",
        "js" => "text/javascript",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "bz2" => "application/x-bzip2",
        "xz" => "application/x-xz",
        "zst" => "application/zstd",
        "7z" => "application/x-7z-compressed",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "avif" => "image/avif",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "sql" => "application/sql",
        "bin" => "application/octet-stream",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_root() {
        for (name, normal) in [
            ("a.txt", "a.txt"),
            ("/a/b.txt", "a/b.txt"),
            ("a\\b.txt", "a/b.txt"),
            ("a/./b/../c.txt", "a/c.txt"),
            ("rapports annuels/été 2026.pdf", "rapports annuels/été 2026.pdf"),
        ] {
            assert_eq!(normalize(name, false).unwrap(), normal, "{name}");
        }
        for name in ["..", "../a", "a/../../b", "/../a", "", "/", "a\0b", "a\nb"] {
            assert!(matches!(normalize(name, false), Err(Error::Validation(_))), "{name:?}");
        }
        assert_eq!(normalize("", true).unwrap(), "");
        assert_eq!(normalize("a/..", true).unwrap(), "");
    }

    #[test]
    fn joins_and_names() {
        assert_eq!(join("", "a/b"), "a/b");
        assert_eq!(join("/backups/", "a/b"), "backups/a/b");
        assert_eq!(join("backups", ""), "backups");
        assert_eq!(file_name("a/b/c.txt"), "c.txt");
        assert_eq!(file_name("a/b/"), "b");
        assert_eq!(content_type("x/Report.PDF"), Some("application/pdf"));
        assert_eq!(content_type("x/noext"), None);
        assert_eq!(decode("/d/%C3%A9t%C3%A9%202026.txt"), "/d/été 2026.txt");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode(&encode("a b/ü?#%", true)), "a b/ü?#%");
    }
}
