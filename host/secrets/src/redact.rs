//! Scrubbing secret values out of anything the host logs.

/// What replaces a secret value.
pub const REDACTED: &str = "[redacted]";

/// Replaces every known secret value in text.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so that a secret containing another is scrubbed whole.
    secrets: Vec<String>,
}

impl Redactor {
    /// A redactor for these secret values. Values shorter than 4 characters
    /// are scrubbed too: a short secret is still a secret.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    /// `text` with every secret value replaced by [`REDACTED`].
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_every_secret_longest_first() {
        let r = Redactor::new(["abc", "abcdef", ""]);
        assert_eq!(r.scrub("key=abcdef&x=abc"), "key=[redacted]&x=[redacted]");
        assert_eq!(r.scrub("nothing here"), "nothing here");
    }
}
