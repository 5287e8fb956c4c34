//! Reflection scrubbing: an upstream that echoes what it received must not
//! hand a connection's secrets back to the plugin.
//!
//! The host fills `{{secret.NAME}}` placeholders and auth schemes into the
//! request; an echoing upstream (a search that repeats its query, an error
//! that quotes a header, a debugging endpoint, or any allowed host the
//! plugin's author controls) would return them. Before a response reaches
//! the guest, every form in which the host could have sent a secret is
//! replaced by [`REDACTED`] in its header values and body:
//!
//! | form                                   | from                                   |
//! |----------------------------------------|----------------------------------------|
//! | the value as it is (and with `+` read as a space, as a query decodes it) | every secret credential of the connection |
//! | percent-encoded (as a URL path or query holds it, `%XX` upper or lower case, `+` for a space) | the same |
//! | escaped as in a JSON string            | the same |
//! | the header values the host set, after their scheme word (`Basic <base64 of user:password>`, `Bearer <token>`, SigV4's `Authorization` and `X-Amz-Security-Token`) | each request |
//! | the OAuth2 access token                | each request |
//!
//! The body is scrubbed while it is read, chunk by chunk, holding back only
//! as many bytes as the longest form minus one ([`Scrubber`]): a large body
//! is never held twice. Values shorter than [`MIN_SCRUBBED_LEN`] bytes are
//! not looked for in responses; they would match ordinary text, and a
//! credential that short is guessed faster than echoed.

use std::sync::{Arc, Mutex};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Match, MatchKind, packed};

pub use patchbay_secrets::REDACTED;

/// Shortest value looked for in responses, in bytes.
pub const MIN_SCRUBBED_LEN: usize = 6;

/// The forms in which a connection's secrets could come back, compiled
/// once per connection; [`Reflections::with`] adds what one request carried.
#[derive(Clone, Default)]
pub struct Reflections {
    forms: Arc<[Vec<u8>]>,
    search: Option<Arc<FormSearch>>,
    /// The last [`with`](Self::with) result, shared by the connection's
    /// requests: its auth header values rarely change between requests.
    last: Arc<Mutex<Option<LastRequest>>>,
}

/// The values a request carried, and the reflections compiled for them.
type LastRequest = (Vec<String>, Reflections);

impl std::fmt::Debug for Reflections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the forms themselves: they are secrets.
        f.debug_struct("Reflections").field("forms", &self.forms.len()).finish()
    }
}

impl Reflections {
    /// The forms of these secret values (see the module's table).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut forms = Vec::new();
        for secret in secrets {
            encodings(secret, &mut forms);
        }
        Self::compile(forms)
    }

    /// No secrets: nothing is scrubbed.
    pub fn none() -> Self {
        Self::default()
    }

    fn compile(mut forms: Vec<Vec<u8>>) -> Self {
        forms.retain(|f| f.len() >= MIN_SCRUBBED_LEN);
        forms.sort();
        forms.dedup();
        let search = (!forms.is_empty()).then(|| Arc::new(FormSearch::new(&forms)));
        Self {
            forms: forms.into(),
            search,
            last: Arc::default(),
        }
    }

    /// These reflections and the values one request carried besides them
    /// (header values the host set, an access token). Recompiles only when
    /// a value is new.
    pub fn with<'a>(&self, values: impl IntoIterator<Item = &'a str>) -> Self {
        let values: Vec<&str> = values.into_iter().collect();
        if values.is_empty() {
            return self.clone();
        }
        let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((seen, reflections)) = last.as_ref()
            && seen.iter().map(String::as_str).eq(values.iter().copied())
        {
            return reflections.clone();
        }
        let mut extra = Vec::new();
        for &value in &values {
            // `Basic <base64>`, `Bearer <token>`, `AWS4-HMAC-SHA256 Credential=…`:
            // the part after the scheme word is the secret, and may come
            // back alone; the scheme word stays readable.
            let secret = value.split_once(' ').map_or(value, |(_, rest)| rest.trim_start());
            encodings(secret, &mut extra);
        }
        extra.retain(|form| form.len() >= MIN_SCRUBBED_LEN && !self.covers(form));
        let reflections = if extra.is_empty() {
            // Not `self.clone()`: the cache would hold itself.
            Self {
                forms: Arc::clone(&self.forms),
                search: self.search.clone(),
                last: Arc::default(),
            }
        } else {
            extra.extend(self.forms.iter().cloned());
            Self::compile(extra)
        };
        *last = Some((values.iter().map(|v| v.to_string()).collect(), reflections.clone()));
        reflections
    }

    /// Whether scrubbing `form` away is already implied: it contains a form
    /// this set looks for.
    fn covers(&self, form: &[u8]) -> bool {
        self.search
            .as_ref()
            .is_some_and(|search| search.find_iter(form).next().is_some())
    }

    /// Whether anything is looked for.
    pub fn is_empty(&self) -> bool {
        self.search.is_none()
    }

    /// `text` with every form replaced by [`REDACTED`].
    pub fn scrub_str(&self, text: &str) -> String {
        match &self.search {
            Some(search) if search.find_iter(text.as_bytes()).next().is_some() => {
                let mut out = Vec::with_capacity(text.len());
                search.replace_into(text.as_bytes(), &mut out);
                // Forms are whole UTF-8 strings, so every match begins and
                // ends on a character boundary of `text`.
                String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            }
            _ => text.to_string(),
        }
    }

    /// A scrubber for one body, fed chunk by chunk.
    pub fn scrubber(&self) -> Scrubber {
        let hold = self.forms.iter().map(Vec::len).max().unwrap_or(1) - 1;
        Scrubber {
            search: self.search.clone(),
            forms: Arc::clone(&self.forms),
            hold,
            pending: Vec::new(),
        }
    }
}

/// Scrubs a body as it streams: [`push`](Self::push) each chunk,
/// [`finish`](Self::finish) at the end. Holds back only a tail that could
/// still be the start of a secret (at most the longest form minus one
/// byte), so a secret split across two chunks is still found and a streamed
/// body (server-sent events) is not delayed by a chunk.
pub struct Scrubber {
    search: Option<Arc<FormSearch>>,
    forms: Arc<[Vec<u8>]>,
    hold: usize,
    pending: Vec<u8>,
}

impl Scrubber {
    /// Scrubs `chunk`, appending to `out` what can no longer be part of a form.
    ///
    /// The held-back tail and the chunk are appended to `out` and searched
    /// there: a body without secrets (nearly every one) is copied once, and
    /// only when a form is found is the searched part rewritten.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let Some(search) = &self.search else {
            out.extend_from_slice(chunk);
            return;
        };
        let base = out.len();
        out.extend_from_slice(&self.pending);
        out.extend_from_slice(chunk);
        self.pending.clear();
        // A match starting before `safe` is decided: no form starting there
        // can still grow past the end of what has arrived. Only a tail that
        // is the beginning of some form can (and only the last `hold` bytes
        // may be).
        let undecided = &out[base..];
        let len = undecided.len();
        let safe = (len.saturating_sub(self.hold)..len)
            .find(|&start| {
                let tail = &undecided[start..];
                self.forms
                    .iter()
                    .any(|form| form.len() > tail.len() && form.starts_with(tail))
            })
            .unwrap_or(len);
        let found = search.find_iter(undecided).take_while(|found| found.start() < safe);
        let replaced: Vec<(usize, usize)> = found.map(|found| (found.start(), found.end())).collect();
        if replaced.is_empty() {
            self.pending.extend_from_slice(&out[base + safe..]);
            out.truncate(base + safe);
            return;
        }
        let undecided = out.split_off(base);
        let mut emitted = 0;
        for (start, end) in replaced {
            out.extend_from_slice(&undecided[emitted..start]);
            out.extend_from_slice(REDACTED.as_bytes());
            emitted = end;
        }
        let keep_from = emitted.max(safe);
        out.extend_from_slice(&undecided[emitted..keep_from]);
        self.pending.extend_from_slice(&undecided[keep_from..]);
    }

    /// Scrubs and appends what was held back.
    pub fn finish(mut self, out: &mut Vec<u8>) {
        match self.search.take() {
            Some(search) => search.replace_into(&self.pending, out),
            None => out.extend_from_slice(&self.pending),
        }
    }
}

/// The forms compiled for searching, leftmost-longest.
///
/// Teddy, aho-corasick's SIMD searcher for up to a few dozen patterns, where
/// the CPU has it: it reads a 180 KB body in about 18 µs whatever the forms.
/// The automaton's own search leans on a prefilter for the forms' first
/// bytes, and a body of JSON is full of the `c` that WooCommerce's `ck_`
/// and `cs_` keys begin with: it took 66 µs for short keys and 335 µs for
/// keys of real length, on every page. The automaton stays for many forms
/// and CPUs without Teddy.
enum FormSearch {
    Teddy(packed::Searcher),
    Automaton(AhoCorasick),
}

impl FormSearch {
    fn new(forms: &[Vec<u8>]) -> Self {
        let teddy = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostLongest)
            .builder()
            .extend(forms)
            .build();
        match teddy {
            Some(searcher) => Self::Teddy(searcher),
            None => Self::Automaton(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(forms)
                    .expect("a handful of byte strings always compile"),
            ),
        }
    }

    fn find_iter<'s, 'h>(&'s self, haystack: &'h [u8]) -> Matches<'s, 'h> {
        match self {
            Self::Teddy(searcher) => Matches::Teddy(searcher.find_iter(haystack)),
            Self::Automaton(automaton) => Matches::Automaton(automaton.find_iter(haystack)),
        }
    }

    /// Appends `haystack` to `out` with every form replaced by [`REDACTED`].
    fn replace_into(&self, haystack: &[u8], out: &mut Vec<u8>) {
        let mut emitted = 0;
        for found in self.find_iter(haystack) {
            out.extend_from_slice(&haystack[emitted..found.start()]);
            out.extend_from_slice(REDACTED.as_bytes());
            emitted = found.end();
        }
        out.extend_from_slice(&haystack[emitted..]);
    }
}

/// The matches of a [`FormSearch`], left to right, not overlapping.
enum Matches<'s, 'h> {
    Teddy(packed::FindIter<'s, 'h>),
    Automaton(aho_corasick::FindIter<'s, 'h>),
}

impl Iterator for Matches<'_, '_> {
    type Item = Match;

    fn next(&mut self) -> Option<Match> {
        match self {
            Self::Teddy(matches) => matches.next(),
            Self::Automaton(matches) => matches.next(),
        }
    }
}

/// The forms of one value: as is, percent-encoded the ways a URL holds it,
/// and escaped as a JSON string holds it.
fn encodings(value: &str, forms: &mut Vec<Vec<u8>>) {
    if value.is_empty() {
        return;
    }
    // A `+` put raw into a query comes back as a space once decoded.
    let mut variants = vec![value.to_string()];
    if value.contains('+') {
        variants.push(value.replace('+', " "));
    }
    for value in &variants {
        let value = value.as_str();
        forms.push(value.as_bytes().to_vec());
        forms.push(percent_encode(value, b"0123456789ABCDEF").into_bytes());
        forms.push(percent_encode(value, b"0123456789abcdef").into_bytes());
        forms.push(
            url::form_urlencoded::byte_serialize(value.as_bytes())
                .collect::<String>()
                .into_bytes(),
        );
        // What the URL parser makes of it in a path and in a query, where
        // it leaves more characters alone than the encodings above.
        for prefix in ["http://h/?q=", "http://h/"] {
            if let Ok(parsed) = url::Url::parse(&format!("{prefix}{value}"))
                && let Some(encoded) = parsed.as_str().strip_prefix(prefix)
            {
                forms.push(encoded.as_bytes().to_vec());
            }
        }
        forms.push(json_escape(value, false).into_bytes());
        forms.push(json_escape(value, true).into_bytes());
    }
}

/// Percent-encodes every byte but ASCII letters, digits and `-._~`.
fn percent_encode(value: &str, hex: &[u8; 16]) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for &byte in value.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(hex[usize::from(byte >> 4)] as char);
            out.push(hex[usize::from(byte & 15)] as char);
        }
    }
    out
}

/// The inside of a JSON string holding `value`; `ascii` escapes every
/// non-ASCII character and `/` too, as some serializers do.
fn json_escape(value: &str, ascii: bool) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '/' if ascii => out.push_str("\\/"),
            c if (c as u32) < 0x20 || (ascii && !c.is_ascii()) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrub_in_chunks(reflections: &Reflections, body: &[u8], size: usize) -> Vec<u8> {
        let mut scrubber = reflections.scrubber();
        let mut out = Vec::new();
        for chunk in body.chunks(size) {
            scrubber.push(chunk, &mut out);
        }
        scrubber.finish(&mut out);
        out
    }

    #[test]
    fn every_encoding_of_a_secret_is_scrubbed() {
        let r = Reflections::new(["s3cr3t/key +ü\"x"]);
        for echoed in [
            "s3cr3t/key +ü\"x",
            "s3cr3t%2Fkey%20%2B%C3%BC%22x",
            "s3cr3t%2fkey%20%2b%c3%bc%22x",
            "s3cr3t%2Fkey+%2B%C3%BC%22x",
            "s3cr3t/key%20+%C3%BC%22x",
            "s3cr3t/key +ü\\\"x",
            "s3cr3t\\/key +\\u00fc\\\"x",
        ] {
            let body = format!("{{\"echo\":\"{echoed}\",\"n\":1}}");
            let scrubbed = r.scrub_str(&body);
            assert_eq!(scrubbed, "{\"echo\":\"[redacted]\",\"n\":1}", "{echoed}");
        }
    }

    #[test]
    fn a_secret_split_across_chunks_is_still_found() {
        let r = Reflections::new(["topsecret-value", "other-secret"]);
        let body = b"aaaa topsecret-value bbbb other-secret cccc topsecret-value".repeat(7);
        let whole = r.scrub_str(std::str::from_utf8(&body).unwrap()).into_bytes();
        assert!(!String::from_utf8_lossy(&whole).contains("secret-value"));
        for size in 1..=body.len().min(40) {
            assert_eq!(scrub_in_chunks(&r, &body, size), whole, "chunks of {size}");
        }
    }

    #[test]
    fn only_a_tail_that_could_begin_a_secret_is_held_back() {
        let r = Reflections::new(["topsecret-value"]);
        let mut scrubber = r.scrubber();
        let mut out = Vec::new();
        scrubber.push(b"data: {\"delta\":\"hello\"}\n\n", &mut out);
        assert_eq!(out, b"data: {\"delta\":\"hello\"}\n\n", "an event passes at once");
        out.clear();
        scrubber.push(b"data: to", &mut out);
        assert_eq!(out, b"data: ", "`to` may begin the secret");
        scrubber.push(b"psecret-value!", &mut out);
        assert_eq!(out, b"data: [redacted]!");
        scrubber.push(b" top", &mut out);
        scrubber.finish(&mut out);
        assert_eq!(out, b"data: [redacted]! top");
    }

    #[test]
    fn a_body_without_secrets_passes_unchanged_and_short_values_are_not_looked_for() {
        let r = Reflections::new(["abc", "longer-secret"]);
        let body = b"abc abc nothing else".to_vec();
        assert_eq!(scrub_in_chunks(&r, &body, 3), body);
        assert!(Reflections::new(["abc"]).is_empty());
        let none = Reflections::none();
        assert_eq!(scrub_in_chunks(&none, &body, 2), body);
    }

    #[test]
    fn request_values_add_their_forms_and_the_part_after_the_scheme() {
        let r = Reflections::new(["password-1"]);
        let basic = "Basic dXNlcjpwYXNzd29yZC0x";
        let per_request = r.with([basic, "Bearer an-access-token"]);
        assert_eq!(
            per_request.scrub_str("got dXNlcjpwYXNzd29yZC0x and an-access-token and password-1"),
            "got [redacted] and [redacted] and [redacted]"
        );
        // A value the connection's forms already cover adds nothing.
        assert!(Arc::ptr_eq(
            r.with(["Bearer password-1"]).search.as_ref().unwrap(),
            r.search.as_ref().unwrap()
        ));
    }

    #[test]
    fn teddy_and_the_automaton_find_the_same_forms() {
        let forms: Vec<Vec<u8>> = [
            "secret-value",
            "secret-value-long",
            "value-long-x",
            "cret-v",
            "ck_4f1b2c",
        ]
        .map(|f| f.as_bytes().to_vec())
        .into();
        let teddy = FormSearch::new(&forms);
        if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
            assert!(matches!(teddy, FormSearch::Teddy(_)), "a few forms get Teddy");
        }
        let automaton = FormSearch::Automaton(
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&forms)
                .unwrap(),
        );
        let spans = |search: &FormSearch, body: &[u8]| -> Vec<(usize, usize)> {
            search.find_iter(body).map(|m| (m.start(), m.end())).collect()
        };
        let long = b"{\"c\":\"ck_4f1b2c\",\"secret-value-longer\":\"secret-value\"} ".repeat(50);
        for body in [
            b"".as_slice(),
            b"secret-value",
            b"secret-value-long-x secret-value-lon cret-value-long-x",
            b"ck_4f1b2ck_4f1b2c",
            &long,
        ] {
            let found = spans(&automaton, body);
            assert_eq!(spans(&teddy, body), found, "{:?}", String::from_utf8_lossy(body));
        }
        assert_eq!(
            spans(&teddy, b"xx secret-value-long-x").len(),
            1,
            "leftmost, then longest"
        );
        assert_eq!(spans(&teddy, b"xx secret-value-long-x"), [(3, 20)]);
    }

    #[test]
    fn more_secrets_than_teddy_holds_are_all_scrubbed() {
        let secrets: Vec<String> = (0..100).map(|i| format!("secret-number-{i:03}")).collect();
        let r = Reflections::new(secrets.iter().map(String::as_str));
        assert!(matches!(**r.search.as_ref().unwrap(), FormSearch::Automaton(_)));
        let body = secrets.join(" ");
        let scrubbed = String::from_utf8(scrub_in_chunks(&r, body.as_bytes(), 7)).unwrap();
        assert_eq!(scrubbed, vec![REDACTED; 100].join(" "));
    }
}
