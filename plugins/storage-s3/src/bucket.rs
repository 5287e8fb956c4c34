//! Where a connection's objects live: the bucket's URL (virtual-host or
//! path style, Amazon S3 or a custom endpoint), the root folder, the part
//! size of multipart uploads, and object keys encoded as S3 signs them.

use patchbay_sdk::prelude::*;
use patchbay_sdk::storage;

/// The smallest part S3 takes (except the last one of an upload).
pub const MIN_PART: u64 = 5 * 1024 * 1024;
/// The largest part S3 takes.
pub const MAX_PART: u64 = 5 * 1024 * 1024 * 1024;
/// The most parts one upload may have.
pub const MAX_PARTS: u64 = 10_000;

/// A connection's bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// The URL of the bucket without a trailing `/`: keys follow it after a
    /// `/`, queries after `/?`.
    pub base: String,
    /// The bucket's name.
    pub name: String,
    /// The region requests are signed for.
    pub region: String,
    /// The root folder's key prefix, without slashes at its ends; may be empty.
    pub root: String,
    /// The configured part size of multipart uploads, in bytes.
    pub part_size: u64,
}

/// The settings a bucket is made from.
pub struct Settings<'a> {
    pub bucket: &'a str,
    pub region: &'a str,
    pub endpoint: Option<&'a str>,
    pub addressing: &'a str,
    pub prefix: &'a str,
    pub part_size_mb: &'a str,
}

impl Bucket {
    /// The connection's bucket, from its settings.
    pub fn from_config() -> Result<Self> {
        let endpoint = config::get("endpoint")?.filter(|e| !e.trim().is_empty());
        Self::new(Settings {
            bucket: &config::require("bucket")?,
            region: &config::get_or("region", "us-east-1")?,
            endpoint: endpoint.as_deref(),
            addressing: &config::get_or("addressing", "virtual-host")?,
            prefix: &config::get_or("prefix", "")?,
            part_size_mb: &config::get_or("part_size_mb", "16")?,
        })
    }

    /// A bucket from settings, checked.
    pub fn new(settings: Settings<'_>) -> Result<Self> {
        let name = settings.bucket.trim();
        let valid_name = (3..=63).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
            && !name.starts_with(['.', '-'])
            && !name.ends_with(['.', '-']);
        if !valid_name {
            return Err(Error::Config(format!(
                "the setting bucket is {name:?}: a bucket name has 3 to 63 lowercase letters, digits, dots and hyphens"
            )));
        }
        let region = settings.region.trim();
        if region.is_empty() || !region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(Error::Config(format!(
                "the setting region is {region:?}: a region such as eu-central-1"
            )));
        }
        let path_style = match settings.addressing {
            "virtual-host" => false,
            "path" => true,
            other => {
                return Err(Error::Config(format!(
                    "the setting addressing is {other:?}: virtual-host or path"
                )));
            }
        };
        let base = match settings.endpoint {
            Some(endpoint) => {
                let endpoint = endpoint.trim().trim_end_matches('/');
                if !endpoint.starts_with("http://") && !endpoint.starts_with("https://") {
                    return Err(Error::Config(format!(
                        "the setting endpoint is {endpoint:?}: an http:// or https:// URL"
                    )));
                }
                format!("{endpoint}/{name}")
            }
            // A dot in the name breaks the wildcard certificate of the
            // virtual host: such buckets are reached by path.
            None if path_style || name.contains('.') => format!("https://s3.{region}.amazonaws.com/{name}"),
            None => format!("https://{name}.s3.{region}.amazonaws.com"),
        };
        let part_size_mb: u64 = settings.part_size_mb.trim().parse().map_err(|_| {
            Error::Config(format!(
                "the setting part_size_mb is {:?}: a whole number of MiB",
                settings.part_size_mb
            ))
        })?;
        let part_size = part_size_mb.saturating_mul(1024 * 1024);
        if !(MIN_PART..=MAX_PART).contains(&part_size) {
            return Err(Error::Config(format!(
                "the setting part_size_mb is {part_size_mb}: between 5 and 5120"
            )));
        }
        Ok(Self {
            base,
            name: name.to_string(),
            region: region.to_string(),
            root: storage::normalize(settings.prefix, true)?,
            part_size,
        })
    }

    /// The key of a file name: the name normalized (refused when it climbs
    /// out of the root) under the root folder.
    pub fn key(&self, name: &str) -> Result<String> {
        Ok(storage::join(&self.root, &storage::normalize(name, false)?))
    }

    /// The key prefix of a directory (ending in `/`, or empty for the
    /// bucket's top when there is no root folder).
    pub fn dir_prefix(&self, path: &str) -> Result<String> {
        let dir = storage::join(&self.root, &storage::normalize(path, true)?);
        Ok(if dir.is_empty() { dir } else { format!("{dir}/") })
    }

    /// A file name relative to the root, from a key under it.
    pub fn relative<'k>(&self, key: &'k str) -> &'k str {
        if self.root.is_empty() {
            return key;
        }
        key.strip_prefix(&self.root)
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or(key)
    }

    /// The URL of an object, with `query` (already encoded) when not empty.
    pub fn object_url(&self, key: &str, query: &str) -> String {
        let mut url = format!("{}/{}", self.base, storage::encode(key, true));
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    /// The URL of the bucket with `query` (already encoded).
    pub fn bucket_url(&self, query: &str) -> String {
        format!("{}/?{query}", self.base)
    }

    /// The part size for a file of `size` bytes: the configured one,
    /// raised (to whole MiB) when the file would need more than 10,000 parts.
    pub fn part_size_for(&self, size: u64) -> u64 {
        const MIB: u64 = 1024 * 1024;
        let needed = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
        self.part_size.max(needed)
    }
}

/// A query string from pairs, each encoded as S3 signs them.
pub fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", storage::encode(name, false), storage::encode(value, false)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings<'a>(endpoint: Option<&'a str>, addressing: &'a str) -> Settings<'a> {
        Settings {
            bucket: "reports",
            region: "eu-central-1",
            endpoint,
            addressing,
            prefix: "/backups/",
            part_size_mb: "16",
        }
    }

    #[test]
    fn addresses_the_bucket_by_host_or_by_path() {
        let virtual_host = Bucket::new(settings(None, "virtual-host")).unwrap();
        assert_eq!(virtual_host.base, "https://reports.s3.eu-central-1.amazonaws.com");
        let path = Bucket::new(settings(None, "path")).unwrap();
        assert_eq!(path.base, "https://s3.eu-central-1.amazonaws.com/reports");
        let custom = Bucket::new(settings(Some("http://127.0.0.1:9000/"), "virtual-host")).unwrap();
        assert_eq!(custom.base, "http://127.0.0.1:9000/reports");
        let dotted = Bucket::new(Settings {
            bucket: "my.reports",
            ..settings(None, "virtual-host")
        })
        .unwrap();
        assert_eq!(dotted.base, "https://s3.eu-central-1.amazonaws.com/my.reports");
    }

    #[test]
    fn keys_stay_under_the_root_and_are_encoded_once() {
        let bucket = Bucket::new(settings(None, "virtual-host")).unwrap();
        let key = bucket.key("été 2026/q1 + q2.pdf").unwrap();
        assert_eq!(key, "backups/été 2026/q1 + q2.pdf");
        assert_eq!(
            bucket.object_url(&key, ""),
            "https://reports.s3.eu-central-1.amazonaws.com/backups/%C3%A9t%C3%A9%202026/q1%20%2B%20q2.pdf"
        );
        assert_eq!(bucket.relative(&key), "été 2026/q1 + q2.pdf");
        assert!(bucket.key("../other/x").is_err());
        assert_eq!(bucket.dir_prefix("/").unwrap(), "backups/");
        assert_eq!(
            query(&[("list-type", "2"), ("prefix", "a b/"), ("delimiter", "/")]),
            "list-type=2&prefix=a%20b%2F&delimiter=%2F"
        );
    }

    #[test]
    fn settings_are_checked() {
        assert!(matches!(
            Bucket::new(Settings {
                bucket: "Bad_Name",
                ..settings(None, "path")
            }),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            Bucket::new(Settings {
                part_size_mb: "4",
                ..settings(None, "path")
            }),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            Bucket::new(settings(Some("ftp://x"), "path")),
            Err(Error::Config(_))
        ));
        assert!(matches!(Bucket::new(settings(None, "sideways")), Err(Error::Config(_))));
    }

    #[test]
    fn large_files_get_larger_parts() {
        let bucket = Bucket::new(settings(None, "path")).unwrap();
        assert_eq!(bucket.part_size_for(2 << 30), 16 << 20);
        // 1 TiB in at most 10,000 parts: 105 MiB each.
        assert_eq!(bucket.part_size_for(1 << 40), 105 << 20);
    }
}
