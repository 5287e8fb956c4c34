//! The interfaces a plugin can export: `connector`, one port per family,
//! capabilities, and `actions`.

use std::fmt;

use crate::types::Family;

/// The table of the contract's exportable interfaces, the one list the
/// host keeps: calls `$callback!` with one row per interface,
/// `Variant => "wit-name", module, is_port;` (the module is the name of the
/// interface's bindings module and of its field in per-interface tables).
/// A test checks the table against the `everything` world of `wit/`.
#[macro_export]
macro_rules! for_each_interface {
    ($callback:ident) => {
        $callback! {
            Connector => "connector", connector, false;
            Shop => "shop", shop, true;
            Courier => "courier", courier, true;
            Payment => "payment", payment, true;
            Messaging => "messaging", messaging, true;
            Storage => "storage", storage, true;
            Llm => "llm", llm, true;
            Feed => "feed", feed, true;
            Actions => "actions", actions, true;
            Webhooks => "webhooks", webhooks, false;
            WebhookHandshake => "webhook-handshake", webhook_handshake, false;
            OAuth => "oauth", oauth, false;
            BulkUpdate => "bulk-update", bulk_update, false;
            InvoiceAttachment => "invoice-attachment", invoice_attachment, false;
            ProductFeed => "product-feed", product_feed, false;
            Embedding => "embedding", embedding, false;
            Transcription => "transcription", transcription, false;
            Streaming => "streaming", streaming, false;
            ImageGeneration => "image-generation", image_generation, false;
            ManifestExtension => "manifest-extension", manifest_extension, false;
            RateSignals => "rate-signals", rate_signals, false;
            OAuthCallback => "oauth-callback", oauth_callback, false;
            BlobStorage => "blob-storage", blob_storage, false;
        }
    };
}

macro_rules! interfaces {
    ($($variant:ident => $name:literal, $module:ident, $port:literal;)*) => {
        /// An interface of the contract that a plugin may export.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Interface {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Interface {
            /// Every exportable interface.
            pub const ALL: &'static [Interface] = &[$(Interface::$variant),*];

            /// The WIT name, e.g. `bulk-update`.
            pub fn name(self) -> &'static str {
                match self { $(Interface::$variant => $name),* }
            }

            /// Whether this is the port of a family (or `actions`).
            pub fn is_port(self) -> bool {
                match self { $(Interface::$variant => $port),* }
            }
        }
    };
}

for_each_interface!(interfaces);

impl Interface {
    /// Looks an interface up by its WIT name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|i| i.name() == name)
    }

    /// The port a family's plugins export.
    pub fn port_of(family: Family) -> Self {
        match family {
            Family::Shop => Self::Shop,
            Family::Courier => Self::Courier,
            Family::Payment => Self::Payment,
            Family::Messaging => Self::Messaging,
            Family::Storage => Self::Storage,
            Family::Llm => Self::Llm,
            Family::Feed => Self::Feed,
            Family::Other => Self::Actions,
        }
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The family's name as written in provider keys (`shop/woocommerce`).
pub fn family_name(family: Family) -> &'static str {
    match family {
        Family::Shop => "shop",
        Family::Courier => "courier",
        Family::Payment => "payment",
        Family::Messaging => "messaging",
        Family::Storage => "storage",
        Family::Llm => "llm",
        Family::Feed => "feed",
        Family::Other => "other",
    }
}

/// The contract package's namespace and name.
pub const CONTRACT_PACKAGE: &str = "patchbay:connector";

/// The contract version this host's bindings are generated from: the one
/// place the host names it.
pub const CONTRACT_VERSION: &str = "0.1.4";

/// Contract versions this host serves: every release of the `0.1` line,
/// which only added to `0.1.0` (`@since` in `wit/`). A `0.1.0` plugin's
/// imports are linked to the newest implementation and its exports are
/// found by semver-compatible lookup, as wasmtime does for WASI.
pub const SUPPORTED_CONTRACT_VERSIONS: &[&str] = &["0.1.0", "0.1.1", "0.1.2", "0.1.3", CONTRACT_VERSION];

/// Interfaces of the contract that the host provides as imports (with
/// functions) or that only define types (checked against `wit/` by a test).
pub const HOST_IMPORTS: &[&str] = &[
    "http",
    "blobs",
    "kv",
    "log",
    "config",
    "crypto",
    "smtp",
    "file-transfer",
    "stream-sink",
    "types",
    "shop-types",
    "courier-types",
    "payment-types",
    "messaging-types",
    "storage-types",
    "llm-types",
    "feed-types",
];

/// Splits `patchbay:connector/shop@0.1.0` into `("patchbay:connector/shop", Some("0.1.0"))`.
pub fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.rsplit_once('@') {
        Some((base, version)) => (base, Some(version)),
        None => (name, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table above and the `everything` world of `wit/` name the same
    /// interfaces, so the host's list cannot drift from the contract.
    #[test]
    fn the_table_is_the_contract() {
        let mut resolve = wit_parser::Resolve::default();
        let (package, _) = resolve
            .push_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../wit"))
            .expect("the contract parses");
        let world = resolve
            .select_world(&[package], Some("everything"))
            .expect("the everything world");
        let name = |key: &wit_parser::WorldKey| match key {
            wit_parser::WorldKey::Interface(id) => resolve.interfaces[*id].name.clone().unwrap_or_default(),
            wit_parser::WorldKey::Name(name) => name.clone(),
        };
        let world = &resolve.worlds[world];
        let exports: Vec<String> = world.exports.keys().map(name).collect();
        let table: Vec<String> = Interface::ALL.iter().map(|i| i.name().to_string()).collect();
        assert_eq!(exports, table, "exports of `everything` vs Interface::ALL");
        let mut imports: Vec<String> = world.imports.keys().map(name).collect();
        imports.sort();
        let mut host: Vec<String> = HOST_IMPORTS.iter().map(|s| s.to_string()).collect();
        host.sort();
        assert_eq!(imports, host, "imports of `everything` vs HOST_IMPORTS");
        let version = resolve.packages[package].name.version.as_ref().map(ToString::to_string);
        assert_eq!(
            version.as_deref(),
            Some(CONTRACT_VERSION),
            "the package version vs CONTRACT_VERSION"
        );
    }
}
